"""Every exception whimbrel raises on purpose.

The tree (the CLI maps each branch to an exit code in exactly one place,
``whimbrel.cli``)::

    WhimbrelError                      base of everything below
    ├── UsageError                     exit 2: bad arguments or configuration
    │   ├── ConfigError                a config file, key, value or URL is wrong
    │   │   └── PrefixesQueryError     ``prefixes_query`` failed on the database
    │   └── TargetNotFoundError        ``--to`` names a version that does not exist
    ├── MigrationDefinitionError       exit 2: a migration file is wrong
    │   ├── MigrationFileError         bad file name, syntax error, no change()/up()
    │   ├── DuplicateMigrationError    two files share a version or a name
    │   ├── IrreversibleMigrationError change() holds a command with no inverse
    │   ├── UnsupportedFeatureError    the dialect cannot express a command
    │   ├── LintFindingsError          ``lint = "error"``: lint findings stop ``migrate``
    │   └── EditedMigrationError       an applied migration's file changed (checksums)
    ├── DatabaseConnectionError        exit 2: the database cannot be reached
    ├── DatabaseError                  exit 1: the database rejected a statement
    ├── MigrationFailedError           exit 1: a statement failed while migrating
    │   └── TenantsFailedError         ``migrate --jobs``: more than one tenant failed
    ├── OutOfOrderError                exit 2: strict_version_order refused a version
    ├── LockTimeoutError               exit 1: the migration lock was not obtained
    └── MigrationsNotUp                exit 1: ``ensure_up`` found pending versions

Messages name the problem, the value and the fix. Normal outcomes such as
"already up" are return values, never exceptions.

Example::

    try:
        migrator.ensure_up()
    except whimbrel.errors.MigrationsNotUp as exc:
        print(exc.pending)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class WhimbrelError(Exception):
    """Base class of every intended whimbrel error."""

    exit_code = 1


class UsageError(WhimbrelError):
    """Bad command-line arguments or API parameters."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration file, key, value or database URL is wrong."""


class MissingDriverError(ConfigError):
    """The database URL needs a driver that is not installed; the message names the extra."""


class PrefixesQueryError(ConfigError):
    """The configured ``prefixes_query`` failed; the driver's error is the ``__cause__``."""

    def __init__(self, message: str, *, statement: str | None = None, sqlstate: str | None = None):
        super().__init__(message)
        self.statement = statement
        self.sqlstate = sqlstate


class TargetNotFoundError(UsageError):
    """A ``to``/``to_exclusive`` version matches no migration."""


class MigrationDefinitionError(WhimbrelError):
    """A migration file or the commands it records are wrong.

    ``path`` and ``line`` locate the problem when known; they are prepended
    to the message by ``str()``.
    """

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def locate(self, path: str, line: int | None) -> MigrationDefinitionError:
        """Attach a file and line unless the error already has one."""
        if self.path is None:
            self.path, self.line = path, line
        return self

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class MigrationFileError(MigrationDefinitionError):
    """A migration file cannot be loaded: name, syntax, missing functions."""


class DuplicateMigrationError(MigrationDefinitionError):
    """Two migration files share a version or a name."""


class IrreversibleMigrationError(MigrationDefinitionError):
    """``change()`` recorded a command that cannot be reversed automatically."""


class UnsupportedFeatureError(MigrationDefinitionError):
    """The target database cannot express a command or option."""


class LintFindingsError(MigrationDefinitionError):
    """``lint = "error"``: ``migrate`` refused to start because lint found problems (exit 2).

    ``findings`` holds ``whimbrel.lint.Finding`` objects (rule, file, line, message, fix).
    """

    def __init__(self, findings: Sequence[Any]):
        listed = "; ".join(f"{f.file}:{f.line}: {f.rule}" for f in findings)
        super().__init__(
            f"lint found {len(findings)} problem(s) in the migrations to run: {listed}; run "
            "`whimbrel lint` for the reasons and the safe sequences, fix them or add "
            '`safety_assured = ["rule-name"]` to a migration you have checked, or set '
            'lint = "warn" to only warn'
        )
        self.findings = list(findings)


class EditedMigrationError(MigrationDefinitionError):
    """Applied migrations whose files changed since they ran; ``edited`` lists their versions."""

    def __init__(self, message: str, edited: Sequence[int] = ()):
        super().__init__(message)
        self.edited = list(edited)


class DatabaseConnectionError(WhimbrelError):
    """The database could not be reached; the URL is shown with its password masked."""

    exit_code = 2


class DatabaseError(WhimbrelError):
    """The database rejected a statement; the driver's error is the ``__cause__``."""

    def __init__(
        self,
        message: str,
        *,
        statement: str | None = None,
        sqlstate: str | None = None,
        code: int | None = None,
    ):
        super().__init__(message)
        self.statement = statement
        self.sqlstate = sqlstate
        #: The driver's numeric error code where it has one (MySQL's 1060, say).
        self.code = code


class MigrationFailedError(WhimbrelError):
    """A statement failed while a migration ran.

    ``statements_run`` lists the statements that had completed before the
    failure. When the migration ran in a transaction they were rolled back,
    and ``rolled_back`` is true; otherwise they stay applied.
    """

    def __init__(
        self,
        message: str,
        *,
        version: int | None = None,
        statement: str | None = None,
        statements_run: Sequence[str] = (),
        rolled_back: bool = True,
        sqlstate: str | None = None,
    ):
        super().__init__(message)
        self.version = version
        self.statement = statement
        self.statements_run = list(statements_run)
        self.rolled_back = rolled_back
        self.sqlstate = sqlstate


class TenantsFailedError(MigrationFailedError):
    """``up(jobs=N)``: more than one tenant prefix failed while they ran at once.

    ``failures`` maps each failed prefix to its error (in prefix order); the
    message lists them all. Tenants that had started finished; ``not_started``
    lists those left for the next run. Exit 1, or 2 when every failure is a
    bad migration file or configuration (all exit 2 themselves).
    """

    def __init__(
        self,
        message: str,
        failures: dict[str, BaseException],
        not_started: Sequence[str] = (),
    ):
        super().__init__(message)
        self.failures = dict(failures)
        self.not_started = list(not_started)
        codes = {getattr(exc, "exit_code", 1) for exc in failures.values()}
        self.exit_code = 2 if codes == {2} else 1


class OutOfOrderError(WhimbrelError):
    """``strict_version_order`` refused a version older than one already applied.

    Exit 2, as a bad migration file: nothing ran, and the fix is a newer version.
    """

    exit_code = 2


class LockTimeoutError(WhimbrelError):
    """The migration lock stayed taken longer than ``lock_timeout`` allows."""


class MigrationsNotUp(WhimbrelError):
    """Raised by ``ensure_up`` when migrations are pending; ``pending`` lists them."""

    def __init__(self, message: str, pending: Sequence[str] = ()):
        super().__init__(message)
        self.pending = list(pending)
