"""Running the rules over migrations: files in, findings out.

Migrations are walked in version order. Each is recorded for ``up`` with the
line of every DSL call, turned into operations, and every applicable rule
reads them; what a migration teaches (column types, validated checks) is
kept for the ones after it. Earlier files of the same folder are walked too,
without being reported, so linting one file still knows the columns an
earlier migration created.

Example::

    findings = lint_paths(["migrations"], database="postgresql")
    for f in findings:
        print(f"{f.file}:{f.line}: {f.rule}: {f.message}")
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from whimbrel.dsl.recorder import DslDefaults, dsl_defaults
from whimbrel.errors import LintFindingsError, MigrationDefinitionError, UsageError
from whimbrel.lint.context import Context, Schema
from whimbrel.lint.context_cache import ContextCache
from whimbrel.lint.from_dsl import Source, step_ops
from whimbrel.lint.ops import Op
from whimbrel.lint.record import Recorded, record_up
from whimbrel.lint.rules import Hit, Rule, all_rules, applicable
from whimbrel.migrator.files import MigrationFile, discover
from whimbrel.migrator.loader import Migration, load

log = logging.getLogger("whimbrel")

#: Re-exported: the CLI and ``migrate`` record with the same DSL defaults.
__all__ = [
    "Finding",
    "LintFindingsError",
    "before_migrate",
    "dsl_defaults",
    "lint_migrations",
    "lint_paths",
    "safety_assured",
]

#: URL scheme -> the database name rules declare
DATABASES = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "sqlite": "sqlite",
}


@dataclass(frozen=True)
class Finding:
    """One problem: the rule, where (file and line of the DSL call), why, and the safe way."""

    rule: str
    file: str
    line: int | None
    message: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.rule}: {self.message}\n  fix: {self.fix}"


def database_of(url: str) -> str:
    """The database name rules use, from a database URL's scheme (``postgres://`` too)."""
    from whimbrel.url import scheme

    return DATABASES.get(scheme(url), scheme(url))


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """``"8.0.28"`` -> ``(8, 0, 28)``; ``"10.11.6-MariaDB"`` -> ``(10, 11, 6)``.

    >>> parse_version("10.11.6-MariaDB")
    (10, 11, 6)
    """
    if text is None:
        return None
    match = re.match(r"^\s*(\d+(?:\.\d+)*)", text)
    if match is None:
        raise UsageError(
            f"server version {text!r} is not a version: write it as 8.0.28 or 10.11.6-MariaDB"
        )
    return tuple(int(p) for p in match[1].split("."))


def lint_paths(
    paths: Iterable[str | Path],
    *,
    database: str = "postgresql",
    server_version: str | None = None,
    defaults: DslDefaults | None = None,
) -> list[Finding]:
    """Lint migration files and folders; returns the findings, in file and line order.

    A folder means every migration in it (sub-folders included). A path that
    does not exist or a file not named ``<version>_<name>.py|.sql`` is a
    ``UsageError`` (exit 2), as is an unknown rule in ``safety_assured``.
    """
    groups: dict[Path, set[Path]] = {}
    for raw in paths:
        path = Path(raw).resolve()
        folder, chosen = _target(path)
        groups.setdefault(folder, set()).update(chosen)
    findings: list[Finding] = []
    for folder, chosen in groups.items():
        files = [f for f in discover(folder) if f.path.resolve() in chosen or _is_under(f, chosen)]
        last = max((f.version for f in files), default=0)
        walk = [f for f in discover(folder, warn=False) if f.version <= last]
        report = {f.path for f in files}
        findings += _lint_files(walk, report, database, server_version, defaults)
    return findings


def _target(path: Path) -> tuple[Path, set[Path]]:
    if path.is_dir():
        return path, {path}
    if not path.is_file():
        raise UsageError(f"lint: {path} does not exist: give migration files or folders")
    if path not in {f.path.resolve() for f in discover(path.parent, warn=False)}:
        raise UsageError(
            f"lint: {path} is not a migration file: migration files are named "
            "<version>_<snake_case_name>.py or .sql, e.g. 20261122093000_create_posts.py"
        )
    return path.parent, {path}


def _is_under(file: MigrationFile, chosen: set[Path]) -> bool:
    resolved = file.path.resolve()
    return any(c.is_dir() and c in resolved.parents for c in chosen)


def _lint_files(
    walk: list[MigrationFile],
    report: set[Path],
    database: str,
    server_version: str | None,
    defaults: DslDefaults | None,
) -> list[Finding]:
    migrations = [load(f) for f in walk]
    shown = [m for m in migrations if m.file.path in report]
    context = [m for m in migrations if m.file.path not in report]
    return lint_migrations(
        shown,
        database=database,
        server_version=server_version,
        defaults=defaults,
        context=context,
    )


def lint_migrations(
    migrations: Sequence[Migration],
    *,
    database: str = "postgresql",
    server_version: str | None = None,
    defaults: DslDefaults | None = None,
    context: Sequence[Migration] = (),
    context_files: Sequence[MigrationFile] = (),
    cache: ContextCache | None = None,
) -> list[Finding]:
    """Lint loaded migrations (``whimbrel.migrator.loader.load``) in version order.

    ``context`` migrations (those already applied, say) are walked for what
    they teach, without being reported. This is what ``migrate`` calls with
    its planned migrations before the first one runs. ``context_files`` are
    context not loaded yet: with a ``cache`` (``lint.context_cache``), those
    older than every planned migration that an earlier run walked unchanged
    are not loaded again; the rest are loaded and walked.
    """
    version = parse_version(server_version)
    if server_version and "mariadb" in server_version.lower() and database == "mysql":
        database = "mariadb"
    rules = applicable(database)
    schema = Schema()
    if context_files:
        schema, late = _walk_context(
            context_files, migrations, rules, database, version, defaults, cache
        )
        context = [*context, *late]
    shown = {id(m) for m in migrations}
    findings: list[Finding] = []
    ordered = sorted([*context, *migrations], key=lambda m: (m.file.version, m.file.name))
    for migration in ordered:
        recorded = record_up(migration, defaults)
        assured = safety_assured(migration)
        hits = _lint_one(recorded, rules, database, version, schema)
        if id(migration) in shown:
            findings += [
                Finding(name, str(migration.file.path), hit.line, hit.message, hit.fix)
                for name, hit in hits
                if name not in assured
            ]
    return findings


def _walk_context(
    files: Sequence[MigrationFile],
    planned: Sequence[Migration],
    rules: list[Rule],
    database: str,
    version: tuple[int, ...] | None,
    defaults: DslDefaults | None,
    cache: ContextCache | None,
) -> tuple[Schema, list[Migration]]:
    """The schema the context files older than every planned migration teach (from the
    cache where it has them), and the later ones loaded, to be walked in order."""
    first = min((m.file.version for m in planned), default=None)
    ordered = sorted(files, key=lambda f: (f.version, f.name))
    head = [f for f in ordered if first is None or f.version < first]
    late = [load(f) for f in ordered if first is not None and f.version >= first]
    schema, known = cache.load(head) if cache is not None else (Schema(), 0)
    for f in head[known:]:
        migration = load(f)
        safety_assured(migration)  # a bad name there is still an error, as when it ran
        _lint_one(record_up(migration, defaults), rules, database, version, schema)
    if cache is not None and known < len(head):
        cache.store(head, schema)
    return schema, late


def _by_op_type(rules: list[Rule]) -> dict[type, list[Rule]]:
    """Operation type -> the rules that read it (dispatch by type, not by asking each rule)."""
    by_type: dict[type, list[Rule]] = {}
    for r in rules:
        for op_type in r.ops:
            by_type.setdefault(op_type, []).append(r)
    return by_type


def _lint_one(
    recorded: Recorded,
    rules: list[Rule],
    database: str,
    version: tuple[int, ...] | None,
    schema: Schema,
) -> list[tuple[str, Hit]]:
    m = recorded.migration
    ctx = Context(database, m.transactional("up"), schema, version)
    src = Source(database, m.file.path)
    ops: list[Op] = [op for step in recorded.steps for op in step_ops(step, src)]
    by_type = _by_op_type(rules)
    hits: list[tuple[str, Hit]] = []
    for op in ops:
        for r in by_type.get(type(op), ()):
            assert r.check is not None
            hit = r.check(op, ctx)
            if hit is not None:
                hits.append((r.name, Hit(hit.message, hit.fix, hit.line or op.line)))
        ctx.learn(op)
    for r in rules:
        if r.per_migration is not None and (hit := r.per_migration(ops, ctx)) is not None:
            hits.append((r.name, hit))
    ctx.commit()
    return sorted(hits, key=lambda h: h[1].line or 0)


_SQL_ASSURED = re.compile(r"^--\s*safety_assured:(?P<names>[^\n]*)$", re.MULTILINE)


def safety_assured(migration: Migration) -> set[str]:
    """The rules a migration silences: ``safety_assured = ["rule", ...]`` at module level
    (``-- safety_assured: rule, rule`` in a ``.sql`` file). Unknown names are refused."""
    path = migration.file.path
    if path.suffix == ".sql":
        text = path.read_text(encoding="utf-8")
        raw: Any = [n.strip() for m in _SQL_ASSURED.finditer(text) for n in m["names"].split(",")]
        raw = [n for n in raw if n]
    else:
        fn = next(iter(migration.functions.values()))
        raw = getattr(fn, "__globals__", {}).get("safety_assured", [])
    if isinstance(raw, str) or not isinstance(raw, list | tuple | set | frozenset):
        raise MigrationDefinitionError(
            f'safety_assured must be a list of rule names, e.g. ["dropping-column"], got {raw!r}',
            path=str(path),
            line=_assured_line(path),
        )
    known = all_rules()
    for name in raw:
        if name not in known:
            close = difflib.get_close_matches(str(name), list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise MigrationDefinitionError(
                f"safety_assured names an unknown rule {name!r}{hint}; the rules are: "
                f"{', '.join(sorted(known))}",
                path=str(path),
                line=_assured_line(path),
            )
    return set(raw)


def _assured_line(path: Path) -> int | None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if "safety_assured" in line:
            return number
    return None


def before_migrate(
    migrations: Sequence[Migration],
    *,
    mode: str,
    database: str,
    defaults: DslDefaults | None = None,
    context: Sequence[Migration] = (),
    server_version: str | None = None,
    context_files: Sequence[MigrationFile] = (),
    cache: ContextCache | None = None,
) -> list[Finding]:
    """What ``migrate`` runs before the first planned migration (config key ``lint``).

    ``mode="warn"`` logs each finding as a warning and returns them;
    ``mode="error"`` raises ``LintFindingsError`` (exit 2) when there are any,
    before anything ran.
    """
    findings = lint_migrations(
        migrations,
        database=database,
        defaults=defaults,
        context=context,
        server_version=server_version,
        context_files=context_files,
        cache=cache,
    )
    if findings and mode == "error":
        raise LintFindingsError(findings)
    for finding in findings:
        log.warning("%s", finding)
    return findings
