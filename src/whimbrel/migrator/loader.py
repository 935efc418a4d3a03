"""Loading a migration file into something the runner can record.

Python files are compiled and executed in a fresh namespace (no entry in
``sys.modules``, so two projects' files never collide). SQL files are split
into their ``-- whimbrel:up`` / ``-- whimbrel:down`` sections.
"""

from __future__ import annotations

import builtins
import difflib
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whimbrel.dsl.commands import Command, ExecuteScript
from whimbrel.dsl.recorder import Recorder, current, recording
from whimbrel.dsl.reverse import forward_change, reverse_all
from whimbrel.errors import (
    IrreversibleMigrationError,
    MigrationDefinitionError,
    MigrationFileError,
    WhimbrelError,
)
from whimbrel.migrator.files import MigrationFile


@dataclass
class Migration:
    """A loaded migration: how to record each direction, and its flags."""

    file: MigrationFile
    functions: dict[str, Callable[[], Any]] = field(default_factory=dict)
    disable_ddl_transaction: bool = False
    disable_migration_lock: bool = False
    #: SQL files can opt out of the transaction per section.
    no_transaction: frozenset[str] = frozenset()
    #: The text that was loaded: the checksum recorded with the version is of what ran,
    #: even if the file changes while the run goes on (and it is not read twice).
    source: str | None = field(default=None, repr=False, compare=False)

    def transactional(self, direction: str) -> bool:
        return not self.disable_ddl_transaction and direction not in self.no_transaction

    def reversible_by_change(self, direction: str) -> bool:
        return direction == "down" and "down" not in self.functions

    def record(self, direction: str, recorder: Recorder) -> list[Command]:
        """Run the migration's function for ``direction`` and return its queued commands.

        A rollback of ``change()`` records it backward and returns the inverse
        commands in reverse order.
        """
        fn = self.functions.get(direction) or self.functions.get("change")
        if fn is None:
            fix = (
                "add a `-- whimbrel:down` section to roll it back"
                if self.file.path.suffix == ".sql"
                else "define down() to roll it back"
            )
            raise IrreversibleMigrationError(
                f"has no {direction} side: {fix}", path=str(self.file.path)
            )
        with recording(recorder):
            try:
                fn()
                commands = recorder.take()
            except MigrationDefinitionError as exc:
                raise exc.locate(str(self.file.path), line_in(exc, self.file.path)) from None
            except WhimbrelError:
                raise  # a database error from repo(): the runner reports it
            except Exception as exc:
                if type(exc).__module__.startswith("whimbrel."):
                    raise  # whimbrel's own control flow (lint's stop at repo().query())
                name = getattr(fn, "__name__", direction)
                raise MigrationFileError(
                    f"{name}() raised {describe_exception(exc)}",
                    path=str(self.file.path),
                    line=line_in(exc, self.file.path),
                ) from exc
        if self.reversible_by_change(direction):
            try:
                return reverse_all(commands)
            except MigrationDefinitionError as exc:
                raise exc.locate(str(self.file.path), None) from None
        if direction not in self.functions:  # change() going up
            return forward_change(commands)
        return commands


def describe_exception(exc: BaseException) -> str:
    """``NameError: name 'craete' is not defined. Did you mean: 'create'?``

    Python 3.12 puts its "Did you mean" hint into ``TracebackException``; 3.11
    prints it only from the interpreter's own hook, so it is worked out here the
    same way (names the failing frame could see, attributes of the object).
    """
    text = "".join(traceback.TracebackException.from_exception(exc).format_exception_only())
    text = text.strip()
    if "Did you mean" not in text:
        hint = _suggestion(exc)
        text += f". Did you mean: {hint!r}?" if hint else ""
    return text


def _suggestion(exc: BaseException) -> str | None:
    wrong = getattr(exc, "name", None)
    if not isinstance(wrong, str):
        return None
    if isinstance(exc, AttributeError):
        candidates = dir(getattr(exc, "obj", None))
    elif isinstance(exc, NameError):
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        frame = tb.tb_frame if tb is not None else None
        scopes = [frame.f_locals, frame.f_globals] if frame is not None else []
        candidates = [n for scope in scopes for n in scope] + dir(builtins)
    else:
        return None
    close = difflib.get_close_matches(wrong, [c for c in candidates if c != wrong], n=1)
    return close[0] if close else None


def line_in(exc: BaseException, path: Path) -> int | None:
    """The last line of ``path`` in the exception's traceback."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return lines[-1] if lines else None


def load(file: MigrationFile) -> Migration:
    """Load a ``.py`` or ``.sql`` migration file."""
    if file.path.suffix == ".sql":
        return load_sql(file)
    return load_python(file)


def load_python(file: MigrationFile) -> Migration:
    path = str(file.path)
    try:
        source = file.path.read_text(encoding="utf-8")
        code = compile(source, path, "exec")
    except SyntaxError as exc:
        raise MigrationFileError(f"syntax error: {exc.msg}", path=path, line=exc.lineno) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationFileError(f"cannot read the file: {exc}", path=path) from None
    namespace: dict[str, Any] = {"__file__": path, "__name__": f"whimbrel_migration_{file.version}"}
    try:
        exec(code, namespace)
    except MigrationDefinitionError as exc:
        raise exc.locate(path, line_in(exc, file.path)) from None
    except Exception as exc:
        raise MigrationFileError(
            f"loading the file raised {describe_exception(exc)}{_import_hint(exc, file.path)}",
            path=path,
            line=line_in(exc, file.path),
        ) from exc
    functions = {n: namespace[n] for n in ("change", "up", "down") if callable(namespace.get(n))}
    if "change" not in functions and "up" not in functions:
        raise MigrationFileError(
            "defines neither change() nor up(): add `def change():` with the commands, "
            "or up() and down()",
            path=path,
        )
    return Migration(
        file,
        functions,
        disable_ddl_transaction=bool(namespace.get("disable_ddl_transaction", False)),
        disable_migration_lock=bool(namespace.get("disable_migration_lock", False)),
        source=source,
    )


def _import_hint(exc: Exception, path: Path) -> str:
    """The fix for a migration importing a module beside it, which is not importable."""
    if not isinstance(exc, ImportError):
        return ""
    top = (exc.name or "").partition(".")[0]
    sibling = bool(top) and any((path.parent / name).exists() for name in (f"{top}.py", top))
    if not sibling and "relative import" not in str(exc):
        return ""
    return (
        "; migration files are loaded one by one, not as a package, and their folder is "
        "not on sys.path: put shared code in a module of your application (installed, or "
        "on PYTHONPATH) and import it from there"
    )


_MARKER = re.compile(r"^--\s*whimbrel:(?P<direction>up|down)(?P<options>[^\n]*)$", re.MULTILINE)


def load_sql(file: MigrationFile) -> Migration:
    """Sections: ``-- whimbrel:up`` [``transaction:false``] then SQL, likewise ``down``."""
    path = str(file.path)
    try:
        text = file.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationFileError(f"cannot read the file: {exc}", path=path) from None
    markers = list(_MARKER.finditer(text))
    if not markers or markers[0]["direction"] != "up":
        raise MigrationFileError(
            "a SQL migration starts its statements with a `-- whimbrel:up` line "
            "(and may add a `-- whimbrel:down` section)",
            path=path,
        )
    functions: dict[str, Callable[[], Any]] = {}
    no_transaction: set[str] = set()
    for n, marker in enumerate(markers):
        direction = marker["direction"]
        if direction in functions:
            line = text.count("\n", 0, marker.start()) + 1
            raise MigrationFileError(
                f"a second `-- whimbrel:{direction}` section", path=path, line=line
            )
        end = markers[n + 1].start() if n + 1 < len(markers) else len(text)
        functions[direction] = _sql_section(text[marker.end() : end])
        if _options(marker["options"], path).get("transaction") == "false":
            no_transaction.add(direction)
    return Migration(file, functions, no_transaction=frozenset(no_transaction), source=text)


def _options(raw: str, path: str) -> dict[str, str]:
    options = {}
    for item in raw.split():
        key, sep, value = item.partition(":")
        if not sep or key != "transaction" or value not in ("true", "false"):
            raise MigrationFileError(
                f"unknown section option {item!r}: the only option is transaction:false", path=path
            )
        options[key] = value
    return options


def _sql_section(sql: str) -> Callable[[], None]:
    def run() -> None:
        # Split when compiled, by the database's own rules: a generic split here cut
        # SQLite trigger bodies and MySQL strings with \' or # comments in two.
        current().record(ExecuteScript(sql))

    return run
