"""MySQL/MariaDB (InnoDB) rules: operations that copy or rebuild the whole table.

Only cases the vendors document are flagged (MySQL 8.0 "Online DDL
Operations", MariaDB "InnoDB Online DDL Operations with the INSTANT Alter
Algorithm"):

- ``mysql-copy-algorithm`` (ALGORITHM=COPY: the table is copied row by row and
  concurrent writes are blocked): changing a column's data type (except a
  longer VARCHAR whose length prefix keeps its size), adding a foreign key
  while ``foreign_key_checks`` is on, adding a STORED generated column, and an
  explicit ``ALGORITHM=COPY``.
- ``mysql-table-rebuild`` (INPLACE but the table is rebuilt, which takes as long
  as a copy and lags replicas): making a column NOT NULL; adding a column other
  than last before MySQL 8.0.29 / MariaDB 10.4 (any column before MySQL 8.0.12
  / MariaDB 10.3.2); dropping a column before MySQL 8.0.29 / MariaDB 10.4.

Without ``server_version`` lint assumes the oldest servers whimbrel supports
(MySQL 8.0.19, MariaDB 10.5; see ``whimbrel.dialects.mysql``) and says so in
the finding.

Example::

    >>> instant_add("mysql", (8, 0, 28), not_last=True)
    False
"""

from __future__ import annotations

from whimbrel.lint.context import Context
from whimbrel.lint.ops import (
    AddColumnOp,
    AddConstraintOp,
    AlterTypeOp,
    CopyAlgorithmOp,
    DropColumnOp,
    Op,
    SetNotNullOp,
)
from whimbrel.lint.rules import MYSQL, Hit, rule
from whimbrel.lint.types import mysql_copies

#: (any position and DROP COLUMN, last position only) instant since these versions.
_INSTANT = {"mysql": ((8, 0, 29), (8, 0, 12)), "mariadb": ((10, 4), (10, 3, 2))}
#: The oldest servers whimbrel supports, assumed when the version is not given.
_OLDEST = {"mysql": (8, 0, 19), "mariadb": (10, 5)}
_ONLINE = (
    "run it with an online schema-change tool (gh-ost or pt-online-schema-change), which "
    "copies in the background and swaps the tables at the end"
)


def _version(ctx: Context) -> tuple[int, ...]:
    return ctx.server_version or _OLDEST[_family(ctx)]


def _family(ctx: Context) -> str:
    return "mariadb" if ctx.database == "mariadb" else "mysql"


def _assumed(ctx: Context) -> str:
    if ctx.server_version is not None:
        return ""
    return (
        " (lint assumed the oldest server whimbrel supports, MySQL 8.0.19 / MariaDB 10.5: "
        "give the server's version with --server-version to be exact)"
    )


def instant_add(family: str, version: tuple[int, ...], not_last: bool) -> bool:
    """Whether InnoDB adds the column instantly on this server version."""
    anywhere, last = _INSTANT[family]
    return version >= anywhere or (version >= last and not not_last)


@rule(
    "mysql-copy-algorithm",
    MYSQL,
    "a MySQL/MariaDB ALTER that copies the table (ALGORITHM=COPY)",
    AlterTypeOp,
    AddConstraintOp,
    AddColumnOp,
    CopyAlgorithmOp,
)
def _copy(op: Op, ctx: Context) -> Hit | None:
    table = getattr(op, "table", "")
    if not ctx.existing(table):
        return None
    why = _copy_reason(op, ctx)
    if why is None:
        return None
    return Hit(
        f'{why}: InnoDB copies "{table}" row by row (ALGORITHM=COPY) and blocks writes to it '
        "until the copy is done",
        _copy_fix(op),
    )


def _copy_reason(op: Op, ctx: Context) -> str | None:
    if isinstance(op, AlterTypeOp):
        old = ctx.old_type(op)
        if old is None:
            return (
                f'column "{op.column}" gets type {op.new} and lint cannot tell its old type '
                "(give modify() from_=); a data type change"
            )
        return (
            f'changing column "{op.column}" from {old} to {op.new}'
            if mysql_copies(old, op.new)
            else None
        )
    if isinstance(op, AddConstraintOp) and op.kind == "foreign_key":
        return f'adding foreign key "{op.name or "?"}" with foreign_key_checks on'
    if isinstance(op, AddColumnOp) and op.stored_generated:
        return f'adding the STORED generated column "{op.column}"'
    if isinstance(op, CopyAlgorithmOp):
        return "ALGORITHM=COPY is written out"
    return None


def _copy_fix(op: Op) -> str:
    if isinstance(op, AddConstraintOp):
        return (
            'add it in a migration that first runs `execute("SET foreign_key_checks = 0")` '
            "(then ALGORITHM=INPLACE is used; existing rows are not checked, so check them "
            "with a query first) and sets it back to 1 after, or " + _ONLINE
        )
    if isinstance(op, AddColumnOp):
        return "add a VIRTUAL generated column instead (instant), or " + _ONLINE
    return (
        "add a new column of the new type, backfill it in batches, switch the code to it and "
        "drop the old one in a later migration; or " + _ONLINE
    )


@rule(
    "mysql-table-rebuild",
    MYSQL,
    "a MySQL/MariaDB ALTER that rebuilds the table in place (not instant)",
    AddColumnOp,
    DropColumnOp,
    SetNotNullOp,
)
def _rebuild(op: Op, ctx: Context) -> Hit | None:
    table = getattr(op, "table", "")
    if not ctx.existing(table):
        return None
    why = _rebuild_reason(op, ctx)
    if why is None:
        return None
    return Hit(
        f'{why}, so InnoDB rebuilds "{table}" (ALGORITHM=INPLACE with a table rebuild): as long '
        f"as a copy, with heavy I/O and replica lag{_assumed(ctx)}",
        _rebuild_fix(op),
    )


def _rebuild_reason(op: Op, ctx: Context) -> str | None:
    family, version = _family(ctx), _version(ctx)
    if isinstance(op, AddColumnOp):
        if op.stored_generated or instant_add(family, version, op.not_last):
            return None
        where = "not as the last column " if op.not_last else ""
        return f'column "{op.column}" is added {where}on a server without instant ADD COLUMN for it'
    if isinstance(op, DropColumnOp):
        if version >= _INSTANT[family][0]:
            return None
        return f'column "{op.column}" is dropped on a server without instant DROP COLUMN'
    if isinstance(op, SetNotNullOp):
        return f'column "{op.column}" is made NOT NULL'
    return None


def _rebuild_fix(op: Op) -> str:
    if isinstance(op, AddColumnOp):
        return (
            "add the column last (no `after=`), which is instant on MySQL 8.0.12+ and MariaDB "
            "10.3.2+, or upgrade to MySQL 8.0.29+ / MariaDB 10.4+; otherwise " + _ONLINE
        )
    if isinstance(op, DropColumnOp):
        return "on MySQL 8.0.29+ / MariaDB 10.4+ it is instant; otherwise " + _ONLINE
    return "keep the column nullable and enforce the value in the application, or " + _ONLINE
