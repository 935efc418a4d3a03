"""Recorded DSL commands turned into lint operations.

Types and defaults are written as the target database's dialect writes them
(``"string"`` is ``varchar(255)``), so a rule compares what would really run.
``execute`` SQL, ``execute_file`` files and ``.sql`` migrations go through the
SQL parser (``from_sql``); a Python callable given to ``execute`` is opaque.

Example::

    ops = step_ops(Step(CreateIndex(index("posts", ["title"])), line=4), ctx)
    # [CreateIndexOp(line=4, table='posts', name='posts_title_index', ...)]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from whimbrel.dialects.base import Dialect
from whimbrel.dsl.commands import (
    AddColumn,
    AlterTable,
    ColumnChange,
    CreateConstraint,
    CreateIndex,
    CreateTable,
    DropIndex,
    DropTable,
    Execute,
    ExecuteFile,
    ExecuteScript,
    ModifyColumn,
    RemoveColumn,
    RenameColumn,
    RenameTable,
    RepoExecute,
    ValidateConstraint,
)
from whimbrel.dsl.objects import ColumnOpts, ColumnType, Reference, reference_name
from whimbrel.errors import WhimbrelError
from whimbrel.lint.from_sql import sql_ops
from whimbrel.lint.ops import (
    AddColumnOp,
    AddConstraintOp,
    AlterTypeOp,
    CreateIndexOp,
    CreateTableOp,
    DropColumnOp,
    DropIndexOp,
    DropTableOp,
    Op,
    RenameColumnOp,
    RenameTableOp,
    SetNotNullOp,
    ValidateConstraintOp,
)
from whimbrel.lint.record import RepoSQL, Step

_SEQUENCE_TYPES = ("serial", "bigserial", "smallserial", "identity")


@dataclass(frozen=True)
class Source:
    """Where steps come from: the database lint targets and the migration file."""

    database: str
    path: Path


@cache
def dialect_for(database: str) -> Dialect:
    """The (pure) dialect compiler of ``database``, used to spell types and defaults."""
    if database in ("mysql", "mariadb"):
        from whimbrel.dialects.mysql import MySQLDialect

        return MySQLDialect()
    if database == "sqlite":
        from whimbrel.dialects.sqlite import SQLiteDialect

        return SQLiteDialect()
    from whimbrel.dialects.postgres import PostgresDialect

    return PostgresDialect()


def type_sql(database: str, type_: ColumnType, opts: ColumnOpts | None = None) -> str:
    """A DSL column type as the database's SQL; the DSL text when the dialect refuses it."""
    try:
        return dialect_for(database).column_type(type_, opts or ColumnOpts())
    except WhimbrelError:
        return str(type_)


def step_ops(step: Step, src: Source) -> list[Op]:
    """The operations of one recorded step."""
    c, line = step.command, step.line
    match c:
        case CreateTable(table=t, columns=cols):
            lines = _change_lines(step, len(cols))
            return [CreateTableOp(line, _low(t.name))] + [
                op for col, ln in zip(cols, lines, strict=True) for op in _add(t.name, col, ln, src)
            ]
        case AlterTable(table=t, changes=changes):
            lines = _change_lines(step, len(changes))
            return [
                op
                for ch, ln in zip(changes, lines, strict=True)
                for op in _change(t.name, ch, ln, src)
            ]
        case DropTable(table=t):
            return [DropTableOp(line, _low(t.name))]
        case RenameTable(table=t, to=to):
            return [RenameTableOp(line, _low(t.name), _low(to.name))]
        case RenameColumn(table=t, column=col, to=to):
            return [RenameColumnOp(line, _low(t.name), _low(col), _low(to))]
        case CreateIndex(index=i):
            return [CreateIndexOp(line, _low(i.table), _low(i.name), i.concurrently, i.unique)]
        case DropIndex(index=i):
            return [DropIndexOp(line, _low(i.name), i.concurrently)]
        case CreateConstraint(constraint=k):
            kind = "check" if k.check is not None else "exclude"
            return [
                AddConstraintOp(line, _low(k.table), _low(k.name), kind, k.validate, False, k.check)
            ]
        case ValidateConstraint(constraint=k):
            return [ValidateConstraintOp(line, _low(k.table), _low(k.name))]
        case Execute(up=up) | ExecuteFile(up_sql=up) | RepoExecute(sql=up) | RepoSQL(sql=up):
            return sql_ops(up, src.database, line)
        case ExecuteScript(up=up):
            return _script_ops(up, src, line)
    # A callable given to execute() is opaque to lint.
    return []


def _change_lines(step: Step, count: int) -> list[int | None]:
    """Each column change's own line; the block's line for the table's default key."""
    own = list(step.change_lines)[-count:] if count else []
    return [step.line] * (count - len(own)) + own


def _change(table: str, ch: ColumnChange, line: int | None, src: Source) -> list[Op]:
    if isinstance(ch, AddColumn):
        return _add(table, ch, line, src)
    if isinstance(ch, ModifyColumn):
        return _modify(table, ch, line, src)
    assert isinstance(ch, RemoveColumn)
    return [DropColumnOp(line, _low(table), _low(ch.name))]


def _add(table: str, ch: AddColumn, line: int | None, src: Source) -> list[Op]:
    o = ch.opts
    default = None
    if o.has_default:
        try:
            default = dialect_for(src.database).literal(o.default)
        except WhimbrelError:
            default = repr(o.default)
    stored = o.generated is not None and "VIRTUAL" not in o.generated.upper()
    ops: list[Op] = [
        AddColumnOp(
            line,
            _low(table),
            _low(ch.name),
            type_sql(src.database, ch.type, o),
            default,
            isinstance(ch.type, str) and ch.type in _SEQUENCE_TYPES,
            stored,
            o.primary_key,
            o.after is not None,
        )
    ]
    return ops + _reference(table, ch.name, ch.type, line)


def _modify(table: str, ch: ModifyColumn, line: int | None, src: Source) -> list[Op]:
    old = type_sql(src.database, *ch.from_) if ch.from_ else None
    ops: list[Op] = [
        AlterTypeOp(line, _low(table), _low(ch.name), type_sql(src.database, ch.type, ch.opts), old)
    ]
    if ch.opts.null is False:
        ops.append(SetNotNullOp(line, _low(table), _low(ch.name)))
    return ops + _reference(table, ch.name, ch.type, line)


def _reference(table: str, column: str, type_: ColumnType, line: int | None) -> list[Op]:
    if not isinstance(type_, Reference):
        return []
    name = _low(reference_name(table, column, type_))
    return [AddConstraintOp(line, _low(table), name, "foreign_key", type_.validate)]


def _script_ops(script: str, src: Source, line: int | None) -> list[Op]:
    """A ``.sql`` section: each statement reported at its own line of the file."""
    text = _file_text(src.path)
    cursor, ops = 0, []
    for statement in dialect_for(src.database).split(script):
        head = statement.strip().split("\n", 1)[0]
        found = text.find(head, cursor) if head else -1
        at = line
        if found >= 0:
            cursor = found + len(head)
            at = text.count("\n", 0, found) + 1
        ops.extend(sql_ops(statement, src.database, at))
    return ops


def _file_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _low(name: str) -> str:
    return name.lower()
