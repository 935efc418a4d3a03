"""MySQL / MariaDB compiler: commands to SQL, following ecto_sql's MyXQL connection.

Targets MySQL 8.0.19+ and MariaDB 10.5+. The two differ in a few forms, so
the adapter reads the server's flavour at connect time and passes it in
(``flavor="mysql"`` or ``"mariadb"``); the dialect stays a pure function of
the command and that flag. Without a flavour it accepts only what both
servers accept.

========================================  =========  =========
form                                      MySQL 8    MariaDB
========================================  =========  =========
``IF [NOT] EXISTS`` on indexes, columns,  refused    yes
constraints, foreign keys
expression (functional) index columns     yes        refused
========================================  =========  =========

Refused everywhere, before anything runs: partial indexes (``where``),
``include``, ``only``, ``nulls_distinct=False``, ``using`` other than
btree/hash, NULLS FIRST/LAST, NOT VALID (``validate=False``), exclusion
constraints, ``mode="cascade"`` drops (MySQL parses CASCADE and ignores it),
``match``, ``on_delete="default_all"`` and ``("nilify", cols)``, arrays,
enum types and ``validate_constraint``. ``concurrently=True`` becomes
``LOCK=NONE`` as in Ecto: the server builds the index online or refuses.

Types follow Ecto's MyXQL map: ``string`` is ``varchar(255)``, ``map`` is
``json``, ``binary_id``/``uuid`` are ``binary(16)`` (16 bytes, Ecto-compatible;
write ``"char(36)"`` for text UUIDs), ``*_usec`` are ``datetime(6)``, and the
serial keys are ``bigint unsigned not null auto_increment`` with references
to them ``bigint unsigned``. Foreign keys are always table-level
``CONSTRAINT ... FOREIGN KEY`` clauses: MySQL ignores an inline REFERENCES.

Example::

    >>> MySQLDialect().compile(CreateIndex(index("posts", ["title"])))
    ['CREATE INDEX `posts_title_index` ON `posts` (`title`)']
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from whimbrel.dialects.base import IDENTIFIER, ON_DELETE_SQL, ON_UPDATE_SQL, Dialect, compiles
from whimbrel.dialects.catalog_checks import ForeignKeyIndexDrop, IndexDrop
from whimbrel.dialects.sqlsplit import MYSQL
from whimbrel.dialects.steps import CatalogStep, Statement
from whimbrel.dsl.commands import (
    AddColumn,
    AddEnumValue,
    AlterTable,
    Command,
    CreateConstraint,
    CreateEnum,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropEnum,
    DropIndex,
    DropTable,
    ModifyColumn,
    RemoveColumn,
    RenameColumn,
    RenameEnum,
    RenameEnumValue,
    RenameIndex,
    RenameTable,
    ValidateConstraint,
    describe,
)
from whimbrel.dsl.objects import (
    ArrayType,
    ColumnOpts,
    ColumnType,
    Fragment,
    Index,
    IndexColumn,
    QuotedName,
    Reference,
    Table,
    reference_name,
)
from whimbrel.errors import UnsupportedFeatureError

# `name(10)`: an index on the first 10 characters (needed for TEXT/BLOB columns).
_PREFIX_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*(\d+)\s*\)$")
#: A reference to an auto-increment key is an unsigned integer of the same width (Ecto).
REFERENCE_TYPES = {
    "serial": "bigint unsigned",
    "bigserial": "bigint unsigned",
    "identity": "bigint unsigned",
}
_AUTO_INCREMENT = frozenset({"serial", "bigserial", "identity"})
#: Column types that take a default only as an expression, ``DEFAULT ('x')`` (MySQL 8).
_EXPRESSION_DEFAULT = re.compile(r"^(tiny|medium|long)?(text|blob)\b|^json\b", re.IGNORECASE)
_FLAVORS = {None: "MySQL/MariaDB", "mysql": "MySQL", "mariadb": "MariaDB"}


class MySQLDialect(Dialect):
    name = "mysql"
    quote_char = "`"
    splitter = MYSQL
    drops_column_foreign_keys = True
    # The driver runs one statement per call; each is journaled on its own.
    one_statement_per_call = True
    types: ClassVar[dict[str, str]] = {
        "id": "integer",
        "integer": "integer",
        "bigint": "bigint",
        "serial": "bigint unsigned not null auto_increment",
        "bigserial": "bigint unsigned not null auto_increment",
        "identity": "bigint unsigned not null auto_increment",
        "binary_id": "binary(16)",
        "uuid": "binary(16)",
        "string": "varchar",
        "text": "text",
        "boolean": "boolean",
        "float": "double",
        "decimal": "decimal",
        "binary": "blob",
        "map": "json",
        "date": "date",
        "time": "time",
        "time_usec": "time",
        "utc_datetime": "datetime",
        "utc_datetime_usec": "datetime",
        "naive_datetime": "datetime",
        "naive_datetime_usec": "datetime",
    }
    #: Types whose fractional seconds default to microseconds, as in Ecto.
    _usec_types: ClassVar[frozenset[str]] = frozenset(
        {"time_usec", "utc_datetime_usec", "naive_datetime_usec"}
    )

    def __init__(self, prefix: str | None = None, *, flavor: str | None = None):
        super().__init__(prefix)
        if flavor not in _FLAVORS:
            raise ValueError(f"flavor must be 'mysql', 'mariadb' or None, got {flavor!r}")
        self.flavor = flavor

    def unsupported(self, what: str, fix: str) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(f"{_FLAVORS[self.flavor]} does not support {what}: {fix}")

    def _mariadb_only(self, what: str, fix: str) -> None:
        """``IF [NOT] EXISTS`` forms exist on MariaDB only."""
        if self.flavor != "mariadb":
            raise self.unsupported(f"{what} (only MariaDB has this IF [NOT] EXISTS form)", fix)

    # -- values and types ------------------------------------------------------------

    def string(self, value: str) -> str:
        # Backslash is an escape character in MySQL strings (unless NO_BACKSLASH_ESCAPES).
        return super().string(value.replace("\\", "\\\\"))

    def literal(self, value: Any, type_: ColumnType | None = None) -> str:
        if isinstance(value, list):
            return self.string(json.dumps(value, separators=(",", ":")))
        return super().literal(value, type_)

    def sized(self, ecto_type: str, sql_type: str, opts: ColumnOpts) -> str:
        if ecto_type in _AUTO_INCREMENT:
            return sql_type
        if ecto_type in self._usec_types:
            return f"{sql_type}({6 if opts.precision is None else opts.precision})"
        if ecto_type in ("time", "utc_datetime", "naive_datetime"):
            return sql_type
        if ecto_type == "string" and opts.size is None:
            return "varchar(255)"
        if ecto_type == "binary" and opts.size is not None:
            return f"varbinary({opts.size})"
        if ecto_type == "decimal" and opts.precision is not None and opts.scale is None:
            return f"decimal({opts.precision},0)"
        return super().sized(ecto_type, sql_type, opts)

    def reference_type(self, type_: ColumnType, opts: ColumnOpts) -> str:
        if isinstance(type_, str) and type_ in REFERENCE_TYPES:
            return REFERENCE_TYPES[type_]
        return self.column_type(type_, opts)

    def array_type(self, type_: ArrayType, opts: ColumnOpts) -> str:
        raise self.unsupported("array columns", 'store the values as JSON: use type "map"')

    # -- columns ------------------------------------------------------------------------

    def column_sql(self, c: AddColumn | ModifyColumn, *, in_alter: bool = False) -> str:
        """```name` type [COLLATE] [GENERATED] [DEFAULT] [NULL] [COMMENT] [AFTER]``."""
        o, sql_type = c.opts, self.column_type(c.type, c.opts)
        sql = f"{self.quote(c.name)} {sql_type}"
        if o.increment is not None:
            raise self.unsupported(
                f"{describe(c)} with increment= (the step is the server's "
                "auto_increment_increment)",
                "remove increment=",
            )
        if o.collation:
            sql += f" COLLATE {self.quote(o.collation)}"
        if o.generated:
            # MySQL's form is [GENERATED ALWAYS] AS (expr): Ecto writes AS before the text,
            # so generated="(price * 2) STORED" works; "ALWAYS AS (...)" is kept as written.
            always = o.generated.lstrip().upper().startswith("ALWAYS")
            sql += f" GENERATED {o.generated}" if always else f" AS {o.generated}"
        if o.fields is not None:
            raise self.unsupported(
                f"{describe(c)} with fields= (PostgreSQL interval fields)", "remove fields="
            )
        if o.has_default:
            sql += " DEFAULT " + self.default(o.default, sql_type, c.type)
        if o.null is not None and not _auto_increment(c.type):
            sql += " NULL" if o.null else " NOT NULL"
        if o.comment is not None:
            sql += f" COMMENT {self.string(o.comment)}"
        if o.after and in_alter:
            sql += f" AFTER {self.quote(o.after)}"
        return sql

    def default(self, value: Any, sql_type: str, type_: ColumnType) -> str:
        """A literal, or ``(literal)`` where MySQL 8 takes only expressions (text, blob, json)."""
        sql = self.literal(value, type_)
        if isinstance(value, Fragment) or value is None:
            return sql
        if isinstance(value, dict | list) or _EXPRESSION_DEFAULT.match(sql_type):
            return f"({sql})"
        return sql

    def foreign_key(self, table: Table, column: str, ref: Reference, exists: str = "") -> str:
        """``CONSTRAINT `fk` FOREIGN KEY (cols) REFERENCES `t` (cols) [ON DELETE] [ON UPDATE]``."""
        where = f'references("{ref.table}") on "{table.name}"."{column}"'
        if not ref.validate:
            raise self.unsupported(
                f"{where} with validate=False (no NOT VALID: MySQL checks existing rows "
                "when it adds a foreign key)",
                "remove validate=False, or fix the rows first",
            )
        if ref.match:
            raise self.unsupported(f"{where} with match= (InnoDB ignores MATCH)", "remove match=")
        if isinstance(ref.on_delete, tuple) or ref.on_delete == "default_all":
            raise self.unsupported(
                f"{where} with on_delete={ref.on_delete!r} (InnoDB has no SET DEFAULT, and "
                "no column list)",
                'use "nilify_all", "delete_all", "restrict" or "nothing"',
            )
        mine = [column, *(own for own, _ in ref.with_)]
        theirs = [ref.column, *(other for _, other in ref.with_)]
        target = self.qualified(ref.table, ref.prefix or table.prefix)
        name = self.quote(reference_name(table.name, column, ref))
        return (
            f"CONSTRAINT {name} FOREIGN KEY {exists}({self.quote_all(mine)}) "
            f"REFERENCES {target} ({self.quote_all(theirs)})"
            f"{ON_DELETE_SQL[ref.on_delete]}{ON_UPDATE_SQL[ref.on_update]}"
        )

    # -- tables ----------------------------------------------------------------------------

    @compiles(CreateTable)
    def _create_table(self, c: CreateTable) -> list[Statement]:
        t = c.table
        parts = [self.column_sql(col) for col in c.columns]
        keys = [col.name for col in c.columns if col.opts.primary_key]
        if keys:
            parts.append(f"PRIMARY KEY ({self.quote_all(keys)})")
        parts += [
            self.foreign_key(t, col.name, col.type)
            for col in c.columns
            if isinstance(col.type, Reference)
        ]
        head = "CREATE " + (f"{t.modifiers} " if t.modifiers else "") + "TABLE "
        head += "IF NOT EXISTS " if c.if_not_exists else ""
        sql = f"{head}{self.qualified(t.name, t.prefix)} ({', '.join(parts)})"
        sql += f" COMMENT = {self.string(t.comment)}" if t.comment is not None else ""
        sql += f" ENGINE = {t.engine or 'InnoDB'}"
        starts = [col.opts.start_value for col in c.columns if col.opts.start_value is not None]
        sql += f" AUTO_INCREMENT = {int(starts[0])}" if starts else ""
        return [sql + (f" {t.options}" if t.options else "")]

    @compiles(AlterTable)
    def _alter_table(self, c: AlterTable) -> list[Statement]:
        t = c.table
        table = self.qualified(t.name, t.prefix)
        # Dropping and re-adding a foreign key of the same name in one ALTER fails
        # (errno 121), so the old one goes first, in a statement of its own.
        old_keys = [
            reference_name(t.name, ch.name, ch.from_[0])
            for ch in c.changes
            if isinstance(ch, ModifyColumn) and ch.from_ and isinstance(ch.from_[0], Reference)
        ]
        first: list[Statement] = [*self.column_drops(t, c.changes)]
        for fk in old_keys:
            first.append(f"ALTER TABLE {table} DROP FOREIGN KEY {self.quote(fk)}")
            # DROP FOREIGN KEY keeps the index InnoDB made for the key: drop it too.
            drop = f"ALTER TABLE {table} DROP INDEX {self.quote(fk)}"
            plan = ForeignKeyIndexDrop(t.name, t.prefix, fk, drop)
            first.append(CatalogStep(plan.preview(), plan))
        actions = [action for ch in c.changes for action in self.alter_actions(t, ch)]
        keys = [ch.name for ch in c.changes if isinstance(ch, AddColumn) and ch.opts.primary_key]
        if keys:
            actions.append(f"ADD PRIMARY KEY ({self.quote_all(keys)})")
        statements: list[Statement] = [*first]
        if actions:
            statements.append(f"ALTER TABLE {table} {', '.join(actions)}")
        if t.comment is not None:
            statements.append(f"ALTER TABLE {table} COMMENT = {self.string(t.comment)}")
        return statements

    @compiles(AddColumn)
    def _add(self, t: Table, ch: AddColumn) -> list[str]:
        if ch.opts.start_value is not None:
            raise self.unsupported(
                f"{describe(ch)} with start_value= on an existing table",
                'set the counter with execute("ALTER TABLE ... AUTO_INCREMENT = n")',
            )
        exists = ""
        if ch.if_not_exists:
            self._mariadb_only(describe(ch), "use add() in a migration that runs once")
            exists = "IF NOT EXISTS "
        actions = [f"ADD COLUMN {exists}{self.column_sql(ch, in_alter=True)}"]
        if isinstance(ch.type, Reference):
            actions.append("ADD " + self.foreign_key(t, ch.name, ch.type, exists))
        return actions

    @compiles(ModifyColumn)
    def _modify(self, t: Table, ch: ModifyColumn) -> list[str]:
        # MODIFY restates the whole column: options not given again (null, default,
        # comment) are dropped, as in Ecto.
        actions = [f"MODIFY {self.column_sql(ch, in_alter=True)}"]
        if isinstance(ch.type, Reference):
            actions.append("ADD " + self.foreign_key(t, ch.name, ch.type))
        return actions

    @compiles(RemoveColumn)
    def _remove(self, t: Table, ch: RemoveColumn) -> list[str]:
        exists = ""
        if ch.if_exists:
            self._mariadb_only(describe(ch), "use remove() in a migration that runs once")
            exists = "IF EXISTS "
        actions = []
        if isinstance(ch.type, Reference):
            fk = self.quote(reference_name(t.name, ch.name, ch.type))
            actions.append(f"DROP FOREIGN KEY {exists}{fk}")
        return actions + [f"DROP COLUMN {exists}{self.quote(ch.name)}"]

    @compiles(DropTable)
    def _drop_table(self, c: DropTable) -> list[Statement]:
        if c.mode == "cascade":
            raise self.unsupported(
                f'{describe(c)} with mode="cascade" (MySQL accepts CASCADE and ignores it)',
                "drop the tables that reference it first",
            )
        exists = "IF EXISTS " if c.if_exists else ""
        return [f"DROP TABLE {exists}{self.qualified(c.table.name, c.table.prefix)}"]

    @compiles(RenameTable)
    def _rename_table(self, c: RenameTable) -> list[Statement]:
        old = self.qualified(c.table.name, c.table.prefix)
        return [f"RENAME TABLE {old} TO {self.qualified(c.to.name, c.table.prefix)}"]

    @compiles(RenameColumn)
    def _rename_column(self, c: RenameColumn) -> list[Statement]:
        table = self.qualified(c.table.name, c.table.prefix)
        return [f"ALTER TABLE {table} RENAME COLUMN {self.quote(c.column)} TO {self.quote(c.to)}"]

    # -- indexes ---------------------------------------------------------------------------

    @compiles(CreateIndex)
    def _create_index(self, c: CreateIndex) -> list[Statement]:
        i = c.index
        self._index_options(i, describe(c))
        exists = ""
        if c.if_not_exists:
            self._mariadb_only(describe(c), "use create() in a migration that runs once")
            exists = "IF NOT EXISTS "
        columns = ", ".join(self.index_part(col, i) for col in i.columns)
        sql = "CREATE " + ("UNIQUE " if i.unique else "") + f"INDEX {exists}{self.quote(i.name)}"
        sql += f" ON {self.qualified(i.table, i.prefix)} ({columns})"
        sql += f" USING {i.using.upper()}" if i.using else ""
        sql += f" COMMENT {self.string(i.comment)}" if i.comment is not None else ""
        sql += " LOCK=NONE" if i.concurrently else ""
        return [sql + (f" {i.options}" if i.options else "")]

    def _index_options(self, i: Index, what: str) -> None:
        refusals = [
            (i.where, "where= (partial indexes)", "index every row, or use a generated column"),
            (i.include, "include=", "add the columns to the index itself"),
            (i.only, "only=", "remove only="),
            (i.nulls_distinct is False, "nulls_distinct=False", "remove it: NULLs stay distinct"),
            (
                i.using and i.using.lower() != "btree",
                f"using={i.using!r}"
                + (
                    " (InnoDB builds a BTREE for USING HASH)"
                    if i.using and i.using.lower() == "hash"
                    else ""
                ),
                'use "btree" or leave using= out; HASH (MEMORY tables), FULLTEXT and SPATIAL '
                "indexes via execute()",
            ),
        ]
        for given, option, fix in refusals:
            if given:
                raise self.unsupported(f"{what} with {option}", fix)

    def index_part(self, column: str | IndexColumn, i: Index) -> str:
        """A name (quoted), ``name(10)`` (a prefix), or an expression (MySQL 8 only)."""
        if isinstance(column, IndexColumn):
            if column.nulls:
                raise self.unsupported(
                    f'NULLS {column.nulls} in index "{i.name}"', "use asc() or desc()"
                )
            sql = self.index_part(column.expr, i)
            return sql + (f" {column.direction}" if column.direction else "")
        if isinstance(column, QuotedName) or IDENTIFIER.match(column):
            return self.quote(column)
        part = _PREFIX_PART.match(column)
        if part:
            return f"{self.quote(part[1])}({part[2]})"
        if self.flavor != "mysql":
            raise self.unsupported(
                f'the expression {column!r} in index "{i.name}" (MariaDB has no functional '
                "index parts)",
                "add a generated column with the expression and index that column",
            )
        return f"({column})"

    @compiles(DropIndex)
    def _drop_index(self, c: DropIndex) -> list[Statement]:
        if c.mode == "cascade":
            raise self.unsupported(f'{describe(c)} with mode="cascade"', "drop the index alone")
        exists = ""
        if c.if_exists:
            self._mariadb_only(describe(c), "use drop() in a migration that runs once")
            exists = "IF EXISTS "
        i = c.index
        name, table = self.quote(i.name), self.qualified(i.table, i.prefix)
        tail = ", LOCK=NONE" if i.concurrently else ""
        if i.concurrently:  # MariaDB's DROP INDEX takes no LOCK option; ALTER TABLE does
            sql = f"ALTER TABLE {table} DROP INDEX {exists}{name}{tail}"
        else:
            sql = f"DROP INDEX {exists}{name} ON {table}"
        # InnoDB drops its own index for a foreign key once this one covers the key, and
        # then refuses to drop this one (error 1553): the plan puts an index back for it.
        plan = IndexDrop(
            i.table,
            i.prefix,
            i.name,
            sql,
            self.quote,
            f"ALTER TABLE {table} DROP INDEX {exists}{name}",
            tail,
        )
        return [CatalogStep(plan.preview(), plan)]

    @compiles(RenameIndex)
    def _rename_index(self, c: RenameIndex) -> list[Statement]:
        i = c.index
        table = self.qualified(i.table, i.prefix)
        return [f"ALTER TABLE {table} RENAME INDEX {self.quote(i.name)} TO {self.quote(c.to)}"]

    # -- constraints -------------------------------------------------------------------------

    @compiles(CreateConstraint)
    def _create_constraint(self, c: CreateConstraint) -> list[Statement]:
        k = c.constraint
        if k.exclude is not None:
            raise self.unsupported(
                f"{describe(c)}: exclusion constraints",
                "enforce the rule with a unique index or a trigger (execute())",
            )
        if not k.validate:
            raise self.unsupported(
                f"{describe(c)} with validate=False (no NOT VALID: the rows are checked when "
                "the constraint is added)",
                "remove validate=False, or fix the rows first",
            )
        table = self.qualified(k.table, k.prefix)
        return [f"ALTER TABLE {table} ADD CONSTRAINT {self.quote(k.name)} CHECK ({k.check})"]

    @compiles(DropConstraint)
    def _drop_constraint(self, c: DropConstraint) -> list[Statement]:
        k = c.constraint
        if c.mode == "cascade":
            raise self.unsupported(
                f'{describe(c)} with mode="cascade"', "drop the dependent objects first"
            )
        exists = ""
        if c.if_exists:
            self._mariadb_only(describe(c), "use drop() in a migration that runs once")
            exists = "IF EXISTS "
        table = self.qualified(k.table, k.prefix)
        return [f"ALTER TABLE {table} DROP CONSTRAINT {exists}{self.quote(k.name)}"]

    @compiles(ValidateConstraint)
    def _validate_constraint(self, c: ValidateConstraint) -> list[Statement]:
        raise self.unsupported(
            f"{describe(c)} (there are no NOT VALID constraints to validate)",
            "constraints are checked when they are added: leave validate_constraint() out",
        )

    @compiles(CreateEnum, DropEnum, RenameEnum, AddEnumValue, RenameEnumValue)
    def _enum(self, c: Command) -> list[Statement]:
        raise self.unsupported(
            f"{describe(c)}: enum types (an ENUM is a column type here)",
            "declare the column with the values, e.g. add(\"mood\", \"enum('happy','sad')\")",
        )


def _auto_increment(type_: ColumnType) -> bool:
    return isinstance(type_, str) and type_ in _AUTO_INCREMENT
