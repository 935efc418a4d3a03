"""Raw SQL (``execute``, ``.sql`` files, ``repo().execute``) parsed into lint operations.

The parser is sqlglot: pure Python, maintained, and one parser for both
PostgreSQL and MySQL/MariaDB syntax (see pyproject.toml for the choice over
pglast). A few PostgreSQL forms it keeps as an opaque ``Command``
(``REINDEX``, ``VALIDATE CONSTRAINT``, ``UNIQUE USING INDEX``); those are read
from the statement's words. A statement it cannot parse at all gets the same
word check, so a typo in a function body never stops lint.

Example::

    >>> sql_ops("CREATE INDEX i ON posts (title)", "postgresql", 3)
    [CreateIndexOp(line=3, table='posts', name='i', concurrently=False, unique=False)]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from whimbrel.lint.ops import (
    AddColumnOp,
    AddConstraintOp,
    AlterTypeOp,
    CopyAlgorithmOp,
    CreateIndexOp,
    CreateTableOp,
    DataChangeOp,
    DropColumnOp,
    DropIndexOp,
    DropTableOp,
    Op,
    ReindexOp,
    RenameColumnOp,
    RenameTableOp,
    SetNotNullOp,
    ValidateConstraintOp,
)

#: whimbrel database name -> sqlglot dialect
READ = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}


#: Statements any rule reads start with one of these words; others (SELECT, COMMENT,
#: CREATE FUNCTION bodies aside) are not parsed at all, which keeps lint fast.
_RELEVANT = re.compile(
    r"(?:create|drop|alter|update|delete|insert|merge|reindex|with)\b", re.IGNORECASE
)
_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)


def sql_ops(sql: str, database: str, line: int | None) -> list[Op]:
    """The operations of one or more SQL statements, all reported at ``line``."""
    if ";" not in sql.strip().rstrip(";") and not _RELEVANT.match(
        sql,
        _LEADING_COMMENTS.match(sql).end(),  # type: ignore[union-attr]
    ):
        return []
    import sqlglot  # loaded only when a migration holds raw SQL
    from sqlglot.errors import SqlglotError

    try:
        trees = sqlglot.parse(sql, read=READ.get(database, "postgres"))
    except SqlglotError:
        return _words(sql, line)
    ops: list[Op] = []
    for tree in trees:
        if tree is not None:
            ops.extend(_tree_ops(tree, database, line))
    return ops


def _tree_ops(tree: Any, database: str, line: int | None) -> list[Op]:
    handler = _HANDLERS.get(type(tree).__name__)
    return handler(tree, database, line) if handler else []


def _name(node: Any) -> str:
    return str(node.name).lower() if node is not None else ""


def _create(tree: Any, database: str, line: int | None) -> list[Op]:
    kind = str(tree.args.get("kind") or "").upper()
    if kind == "INDEX":
        index = tree.this
        return [
            CreateIndexOp(
                line,
                _name(index.args.get("table")),
                _name(index),
                bool(tree.args.get("concurrently")),
                bool(tree.args.get("unique")),
            )
        ]
    if kind == "TABLE":
        return [CreateTableOp(line, _name(tree.this.find(_exp().Table)))]
    return []


def _drop(tree: Any, database: str, line: int | None) -> list[Op]:
    kind = str(tree.args.get("kind") or "").upper()
    tables = tree.args.get("tables") or []
    if kind == "TABLE":
        return [DropTableOp(line, _name(t)) for t in tables]
    if kind == "INDEX":
        return [DropIndexOp(line, _name(t), bool(tree.args.get("concurrently"))) for t in tables]
    return []


def _alter(tree: Any, database: str, line: int | None) -> list[Op]:
    if str(tree.args.get("kind") or "").upper() != "TABLE":
        return []
    table = _name(tree.this)
    not_valid = bool(tree.args.get("not_valid"))
    ops: list[Op] = []
    for action in tree.args.get("actions") or []:
        handler = _ACTIONS.get(type(action).__name__)
        if handler is not None:
            ops.extend(handler(action, table, not_valid, database, line))
    for option in tree.args.get("options") or []:
        if type(option).__name__ == "AlgorithmProperty" and _name(option.this) == "copy":
            ops.append(CopyAlgorithmOp(line, table))
    return ops


def _column_def(
    action: Any, table: str, not_valid: bool, database: str, line: int | None
) -> list[Op]:
    exp = _exp()
    kinds = [c.args.get("kind") for c in action.args.get("constraints") or []]
    dtype = action.args.get("kind")
    type_sql = dtype.sql(READ[database]) if dtype is not None else None
    default = next(
        (k.this.sql(READ[database]) for k in kinds if isinstance(k, exp.DefaultColumnConstraint)),
        None,
    )
    computed = [k for k in kinds if isinstance(k, exp.ComputedColumnConstraint)]
    # PostgreSQL before 18 has only STORED generated columns, and sqlglot marks none of them.
    stored = any(k.args.get("persisted") or database == "postgresql" for k in computed)
    sequence = any(isinstance(k, exp.GeneratedAsIdentityColumnConstraint) for k in kinds) or (
        type_sql is not None and type_sql.lower() in ("serial", "bigserial", "smallserial")
    )
    ops: list[Op] = [
        AddColumnOp(
            line,
            table,
            _name(action),
            type_sql,
            default,
            sequence,
            stored,
            any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds),
            action.args.get("position") is not None,
        )
    ]
    if any(isinstance(k, exp.Reference) for k in kinds):
        ops.append(AddConstraintOp(line, table, None, "foreign_key", not not_valid))
    return ops


def _alter_column(
    action: Any, table: str, not_valid: bool, database: str, line: int | None
) -> list[Op]:
    column = _name(action)
    ops: list[Op] = []
    if action.args.get("dtype") is not None:
        ops.append(AlterTypeOp(line, table, column, action.args["dtype"].sql(READ[database])))
    if action.args.get("allow_null") is False:
        ops.append(SetNotNullOp(line, table, column))
    return ops


def _modify_column(
    action: Any, table: str, not_valid: bool, database: str, line: int | None
) -> list[Op]:
    """MySQL ``MODIFY``/``CHANGE COLUMN``: the whole column is restated."""
    exp = _exp()
    definition = action.this
    column = _name(action.args.get("rename_from") or definition)
    ops: list[Op] = []
    if definition.args.get("kind") is not None:
        ops.append(AlterTypeOp(line, table, column, definition.args["kind"].sql(READ[database])))
    kinds = [c.args.get("kind") for c in definition.args.get("constraints") or []]
    if any(
        isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null") for k in kinds
    ):
        ops.append(SetNotNullOp(line, table, column))
    return ops


_CONSTRAINT_KINDS = {
    "ForeignKey": "foreign_key",
    "CheckColumnConstraint": "check",
    "UniqueColumnConstraint": "unique",
    "PrimaryKey": "primary_key",
    "PrimaryKeyColumnConstraint": "primary_key",
    "ExcludeColumnConstraint": "exclude",
}


def _add_constraint(
    action: Any, table: str, not_valid: bool, database: str, line: int | None
) -> list[Op]:
    ops: list[Op] = []
    for item in action.args.get("expressions") or []:
        name = _name(item) if type(item).__name__ == "Constraint" else None
        parts = item.args.get("expressions") if name is not None else [item]
        for part in parts or []:
            kind = _CONSTRAINT_KINDS.get(type(part).__name__)
            if kind is not None:
                check = part.this.sql(READ[database]) if kind == "check" else None
                ops.append(AddConstraintOp(line, table, name, kind, not not_valid, False, check))
    return ops


def _rename_column(
    action: Any, table: str, not_valid: bool, database: str, line: int | None
) -> list[Op]:
    return [RenameColumnOp(line, table, _name(action.this), _name(action.args.get("to")))]


def _rename_table(
    action: Any, table: str, not_valid: bool, database: str, line: int | None
) -> list[Op]:
    return [RenameTableOp(line, table, _name(action.this))]


def _drop_action(
    action: Any, table: str, not_valid: bool, database: str, line: int | None
) -> list[Op]:
    if str(action.args.get("kind") or "").upper() != "COLUMN":
        return []
    return [DropColumnOp(line, table, _name(c)) for c in action.args.get("tables") or []]


def _data(tree: Any, database: str, line: int | None) -> list[Op]:
    verb = type(tree).__name__.upper()
    target = tree.this.find(_exp().Table) if tree.this is not None else None
    where = verb in ("INSERT", "MERGE") or tree.args.get("where") is not None
    return [DataChangeOp(line, _name(target) or None, verb, where)]


def _command(tree: Any, database: str, line: int | None) -> list[Op]:
    return _words(tree.sql(), line)


_VALIDATE = re.compile(r"^ALTER TABLE (?:ONLY )?(?P<t>\S+) VALIDATE CONSTRAINT (?P<c>\S+)")
_USING_INDEX = re.compile(
    r"^ALTER TABLE (?:ONLY )?(?P<t>\S+) ADD (?:CONSTRAINT (?P<c>\S+) )?"
    r"(?P<kind>UNIQUE|PRIMARY KEY) USING INDEX"
)


def _words(sql: str, line: int | None) -> list[Op]:
    """The operations lint needs from statements the parser keeps opaque."""
    text = " ".join(re.sub(r"--[^\n]*", " ", sql).split()).upper().rstrip(";")
    if text.startswith("REINDEX"):
        return [ReindexOp(line, " CONCURRENTLY" in text)]
    if m := _VALIDATE.match(text):
        return [ValidateConstraintOp(line, _ident(m["t"]), _ident(m["c"]))]
    if m := _USING_INDEX.match(text):
        kind = "unique" if m["kind"] == "UNIQUE" else "primary_key"
        return [AddConstraintOp(line, _ident(m["t"]), m["c"] and _ident(m["c"]), kind, True, True)]
    return []


def _ident(word: str) -> str:
    return word.split(".")[-1].strip('"`').lower()


def _exp() -> Any:
    from sqlglot import exp

    return exp


_HANDLERS: dict[str, Callable[[Any, str, int | None], list[Op]]] = {
    "Create": _create,
    "Drop": _drop,
    "Alter": _alter,
    "Update": _data,
    "Delete": _data,
    "Insert": _data,
    "Merge": _data,
    "Command": _command,
}
_ACTIONS: dict[str, Callable[[Any, str, bool, str, int | None], list[Op]]] = {
    "ColumnDef": _column_def,
    "AlterColumn": _alter_column,
    "ModifyColumn": _modify_column,
    "AddConstraint": _add_constraint,
    "RenameColumn": _rename_column,
    "AlterRename": _rename_table,
    "Drop": _drop_action,
}
