"""``whimbrel squash --to V``: one baseline migration instead of every migration up to V.

The migrations up to and including V are replayed into a scratch database
(as ``whimbrel diff`` does), its schema is read back as SQL
(``whimbrel.structure.baseline``) and written as ``<V>_squashed.sql``, a SQL
migration with version V, an up section that creates the schema and a down
section that drops it. The replaced files move to ``migrations/squashed/``
(which discovery does not read), so version control shows the move;
``delete=True`` removes them instead.

Before any file is touched the baseline is proven: it is run into a second
scratch database, whose catalog (``whimbrel.inspect``: tables, columns,
indexes, keys, constraints, views, enum types) must equal the replay's, and
its down section must leave that database empty. A baseline that fails either
check is refused (``SquashError``) or, for the down section only, written
without one (``whimbrel rollback`` then refuses to pass it), with a warning.

Existing databases need nothing: they have version V, so the baseline never
runs there. Its header (``whimbrel.migrator.squashed``) names the versions it
replaced and the checksum of V's old file, so ``status`` lists those
versions as ``(squashed into V)`` and ``migrate`` records the baseline's new
checksum. A new database runs the baseline as version V and records only V.

Example::

    import whimbrel
    from whimbrel.structure.squash import squash

    with whimbrel.Migrator.from_config() as m:
        result = squash(m, to=20261122093000)
    print(result.path, [str(p) for p, _ in result.moves])
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from whimbrel.errors import UsageError, WhimbrelError
from whimbrel.migrator import squashed
from whimbrel.migrator.checksums import file_checksum
from whimbrel.migrator.files import MigrationFile, discover
from whimbrel.structure import baseline
from whimbrel.url import scheme, sqlite_path

if TYPE_CHECKING:
    from whimbrel.migrator.core import Migrator

__all__ = ["SquashError", "SquashResult", "squash"]


class SquashError(UsageError):
    """``squash`` cannot replace these migrations with a baseline; nothing was changed."""


@dataclass(frozen=True)
class SquashResult:
    """What ``squash`` wrote (or, with ``dry_run``, would write)."""

    #: The baseline file, ``<migrations>/<V>_squashed.sql``.
    path: Path
    #: Its text.
    text: str
    #: The versions it replaces (V included), oldest first.
    covers: tuple[int, ...]
    #: (file, where it went; None when deleted), oldest first.
    moves: list[tuple[Path, Path | None]] = field(default_factory=list)
    #: Why the baseline has no down section, when it has none.
    no_down: str | None = None


def squash(
    migrator: Migrator, to: int, *, dry_run: bool = False, delete: bool = False
) -> SquashResult:
    """Replace the migrations up to and including ``to`` with one baseline migration.

    Raises ``SquashError`` (exit 2) before touching any file when ``to``
    names no global migration, names a tenant migration, the migrator's
    database applied only some of the versions up to ``to``, the target
    ``squashed/`` folder already holds a file of that name, or the baseline
    does not rebuild the replayed schema; ``ClientToolError`` when pg_dump
    is missing. ``dry_run`` computes and proves everything and writes nothing.
    """
    config = migrator.config
    folder = config.migrations_path
    files = discover(folder)
    chosen = _chosen(files, to, migrator)
    covers = _covers(chosen, files)
    path = folder / f"{to}_{squashed.NAME}.sql"
    moves = _moves(chosen, folder, delete)
    _check_database(migrator, covers)
    if migrator.adapter.name == "postgresql":
        baseline.pg_dump_tool(migrator.adapter)  # a missing pg_dump is named before the replay
    schema, no_down = _proven_schema(migrator, to, path.name)
    replaced = file_checksum(next(f.path for f in chosen if f.version == to))
    down = schema.down + _forget(migrator, covers, to) if no_down is None else None
    text = _render(to, covers, replaced, schema.up, down, no_down)
    if not dry_run:
        _apply(moves, path, text)
    return SquashResult(path, text, covers, moves, no_down)


def _chosen(files: list[MigrationFile], to: int, migrator: Migrator) -> list[MigrationFile]:
    """The files up to and including ``to``; refuses an unknown or tenant version."""
    versions = {f.version for f in files}
    if to not in versions:
        tenant = discover(migrator.config.tenant_migrations_path, warn=False)
        if to in {f.version for f in tenant}:
            raise SquashError(
                f"--to {to} is a tenant migration ({migrator.config.tenant_migrations_path}): "
                "squash replaces global migrations only, since tenant schemas are replayed "
                "one by one; give the version of a file in "
                f"{migrator.config.migrations_path}"
            )
        raise SquashError(
            f"--to {to} matches no migration in {migrator.config.migrations_path}: give the "
            "version of the newest migration to fold into the baseline (`whimbrel status` "
            "lists them)"
        )
    chosen = [f for f in files if f.version <= to]
    if len(chosen) == 1 and squashed.baselines(chosen):
        raise SquashError(
            f"--to {to}: {chosen[0].path.name} is already the baseline of every migration up "
            "to it; there is nothing more to squash"
        )
    return chosen


def _covers(chosen: list[MigrationFile], files: list[MigrationFile]) -> tuple[int, ...]:
    """The chosen versions, plus those that earlier baselines among them replaced."""
    earlier = squashed.baselines(chosen)
    return tuple(
        sorted({f.version for f in chosen} | {v for b in earlier.values() for v in b.covers})
    )


def _moves(
    chosen: list[MigrationFile], folder: Path, delete: bool
) -> list[tuple[Path, Path | None]]:
    """Where each replaced file goes; refuses a name that is already in ``squashed/``."""
    moves: list[tuple[Path, Path | None]] = []
    for f in chosen:
        target = None if delete else folder / squashed.FOLDER / f.path.relative_to(folder)
        if target is not None and target.exists():
            raise SquashError(
                f"{target} already exists, so {f.path} cannot be moved there: an earlier "
                f"squash left it; move it away (or delete it) first, or use --delete to "
                "remove the replaced files instead"
            )
        moves.append((f.path, target))
    return moves


def _check_database(migrator: Migrator, covers: tuple[int, ...]) -> None:
    """Refuse when the migrator's database applied only some of ``covers``.

    Once squashed, such a database could neither run the baseline (its tables
    exist) nor the missing migrations (their files are gone). A SQLite file
    that does not exist has applied nothing, and is not created.
    """
    url = migrator.config.database_url
    if scheme(url) == "sqlite" and not Path(sqlite_path(url)).is_file():
        return
    applied = set(migrator._applied(None))
    applied |= set(squashed.covered(discover(migrator.config.migrations_path, warn=False)))
    ran = [v for v in covers if v in applied]
    missing = [v for v in covers if v not in applied]
    if ran and missing:
        listed = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise SquashError(
            f"{migrator.adapter.display_url} applied {len(ran)} of the {len(covers)} migrations "
            f"up to {covers[-1]} but not {listed}: once squashed it could run neither the "
            f"baseline nor those. Bring it to {covers[-1]} first (`whimbrel migrate --to "
            f"{covers[-1]}`), and every other database too, then squash"
        )


# -- replay and proof -------------------------------------------------------------------


@contextmanager
def _scratch(migrator: Migrator, folder: Path | None = None) -> Iterator[Migrator]:
    """A migrator on a new scratch database beside the migrator's (dropped afterwards)."""
    from whimbrel.drift import scratch_database
    from whimbrel.migrator.core import Migrator as Base

    with scratch_database(migrator.config.database_url) as url:
        config = dataclasses.replace(
            migrator.config,
            database_url=url,
            lint="off",
            migration_lock=True,
            migrations_path=folder or migrator.config.migrations_path,
        )
        with _quiet(), Base(config, out=lambda _line: None) as scratch:
            yield scratch


@contextmanager
def _quiet() -> Iterator[None]:
    """The replays' ``== Running`` lines are noise here."""
    logger = logging.getLogger("whimbrel")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _proven_schema(migrator: Migrator, to: int, name: str) -> tuple[baseline.Schema, str | None]:
    """The replayed schema as SQL, checked by running it; the reason when down is left out."""
    from whimbrel.inspect import diff, inspect

    source = migrator.config.migration_source
    with _scratch(migrator) as replay:
        replay.run("up", to=to)
        schema = baseline.read(replay.adapter, source)
        expected = inspect(replay.config.database_url, versions_table=source)
    with tempfile.TemporaryDirectory(prefix="whimbrel-squash-") as tmp:
        folder = Path(tmp)
        (folder / name).write_text(_render(to, (to,), None, schema.up, schema.down, None))
        with _scratch(migrator, folder) as check:
            try:
                check.run("up")
            except WhimbrelError as exc:
                raise SquashError(_unproven(to, f"running it failed: {exc}")) from exc
            drift = diff(expected, inspect(check.config.database_url, versions_table=source))
            if drift:
                raise SquashError(_unproven(to, "it builds another schema: " + "; ".join(drift)))
            return schema, _down_problem(check, source)


def _down_problem(check: Migrator, source: str) -> str | None:
    """Why the down section cannot be kept (it failed, or left objects behind), or None."""
    from whimbrel.structure import _FOUND

    try:
        check.run("down", step=1)
    except WhimbrelError as exc:
        return f"running it failed: {str(exc).splitlines()[0]}"
    ours = set(baseline.whimbrel_tables(source))
    left = [
        name
        for name in _FOUND[check.adapter.name](check.adapter)
        if re.split(r"[ .]", name)[-1] not in ours  # "table t", "public.t", "t"
    ]
    return f"it leaves {', '.join(left[:5])} behind" if left else None


def _unproven(to: int, why: str) -> str:
    return (
        f"the baseline of the migrations up to {to} does not rebuild their schema: {why}. "
        "Nothing was changed; keep the migrations as they are (and report this with the "
        "statements involved)"
    )


# -- the file ---------------------------------------------------------------------------


def _forget(migrator: Migrator, covers: tuple[int, ...], to: int) -> str:
    """The down section's last statement: databases migrated before the squash hold rows
    for the replaced versions, which the rollback of the baseline undoes too."""
    replaced = [v for v in covers if v != to]
    if not replaced:
        return ""
    q = migrator.adapter.quote_char
    table = f"{q}{migrator.config.migration_source}{q}"
    return f"DELETE FROM {table} WHERE {q}version{q} IN ({', '.join(map(str, replaced))});\n"


def _render(
    to: int,
    covers: tuple[int, ...],
    replaced_checksum: str | None,
    up: str,
    down: str | None,
    no_down: str | None,
) -> str:
    first, count = covers[0], len(covers)
    lines = [
        squashed.header(covers, replaced_checksum).rstrip("\n"),
        f"-- Baseline written by `whimbrel squash --to {to}`: the schema the {count} "
        f"migration(s) from {first} to {to} built",
        f"-- (their files are in {squashed.FOLDER}/). A database that ran them keeps them; "
        "a new one runs this instead.",
    ]
    if no_down is not None:
        lines.append(f"-- No down section: the generated one failed its check ({no_down}).")
    text = "\n".join(lines) + "\n-- whimbrel:up\n" + up.strip() + "\n"
    if down is not None:
        text += "\n-- whimbrel:down\n" + down
    return text


def _apply(moves: list[tuple[Path, Path | None]], path: Path, text: str) -> None:
    """Move (or delete) the replaced files, then write the baseline."""
    for source, target in moves:
        if target is None:
            source.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))
    path.write_text(text, encoding="utf-8")
