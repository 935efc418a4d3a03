"""Plans for what SQLite's ALTER TABLE cannot do: the table rebuild, and index renames.

SQLite's documentation ("Making Other Kinds Of Table Schema Changes", in
``lang_altertable.html``) prescribes the rebuild: create the new table,
copy the rows, drop the old table, rename the new one, recreate the
indexes and triggers, then check the foreign keys. A rebuild must copy the
table's *current* definition, which only the catalog knows, so the SQLite
dialect compiles such commands to a ``TablePlan`` (inside a ``CatalogStep``)
and the SQLite adapter, which can read the catalog, calls ``expand`` with the
table as it is at that moment. Everything here is still pure: the plan is a
function of the commands and of the ``TableSchema`` it is given, so it is
unit-tested without a database.

``expand`` uses plain ``ALTER TABLE`` when every change allows it (adding a
nullable column, dropping a column nothing else uses) and rebuilds otherwise.
The adapter owns the parts that need the connection: foreign keys off, the
transaction, and ``PRAGMA foreign_key_check`` afterwards.

Example::

    >>> from whimbrel.dialects.sqlite import SQLiteDialect
    >>> from whimbrel.dialects.sqlite_schema import parse_table
    >>> plan = TablePlan(Table("t"), (ModifyColumn("a", "integer", ColumnOpts(null=False)),),
    ...                  SQLiteDialect())
    >>> plan.expand(parse_table("t", "CREATE TABLE t (a TEXT)")).statements[:2]
    ['CREATE TABLE "whimbrel_new_t" ("a" INTEGER NOT NULL)', \
'INSERT INTO "whimbrel_new_t" ("rowid", "a") SELECT "rowid", "a" FROM "t"']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from whimbrel.dialects.sqlite_schema import (
    Clause,
    Element,
    TableSchema,
    Token,
    has_primary_key,
    mentions,
    tokenize,
)
from whimbrel.dsl.commands import (
    AddColumn,
    ColumnChange,
    CreateConstraint,
    DropConstraint,
    ModifyColumn,
    RemoveColumn,
    describe,
)
from whimbrel.dsl.objects import Index, Reference, Table, reference_name
from whimbrel.errors import DatabaseError

if TYPE_CHECKING:
    from whimbrel.dialects.sqlite import SQLiteDialect

Change = ColumnChange | CreateConstraint | DropConstraint
NEW_PREFIX = "whimbrel_new_"


@dataclass(frozen=True)
class Expansion:
    """The statements a plan became; ``rebuilt`` when they copy the table."""

    statements: list[str]
    rebuilt: bool = False


@dataclass
class _Draft:
    """The new table while the changes are applied: column texts, then constraint texts."""

    columns: list[tuple[str, str]]  # (name as written, definition)
    constraints: list[tuple[str | None, str]]  # (case-folded name, definition)
    removed: set[str] = field(default_factory=set)
    added: list[AddColumn] = field(default_factory=list)


@dataclass(frozen=True)
class TablePlan:
    """Changes to one table that need its current definition (SQLite)."""

    table: Table
    changes: tuple[Change, ...]
    dialect: SQLiteDialect = field(repr=False, compare=False)

    #: Whether the plan may copy the table: the adapter then turns foreign keys off.
    may_rebuild = True

    # -- dry run ---------------------------------------------------------------------

    def preview(self) -> str:
        """What ``--dry-run`` prints: the ALTER TABLE it would try, or a note on the rebuild."""
        what = ", ".join(describe(ch) for ch in self.changes)
        name = self.table.name
        guess = self._native(list(self.changes), None)
        note = f'-- {what} on table "{name}": planned from the table\'s definition when it runs;'
        if guess is not None:
            return "\n".join([note + " ALTER TABLE if nothing depends on the column:", *guess])
        return (
            f'{note} SQLite rebuilds the table (creates "{NEW_PREFIX}{name}", copies the rows, '
            f'drops "{name}", renames the copy, recreates its indexes and triggers)'
        )

    # -- expansion -------------------------------------------------------------------

    def expand(self, schema: TableSchema) -> Expansion:
        """The statements for ``schema``: ALTER TABLE where possible, else a rebuild."""
        changes = [ch for ch in self.changes if self._applies(ch, schema)]
        if not changes:
            return Expansion([])
        native = self._native(changes, schema)
        if native is not None:
            return Expansion(native)
        return Expansion(self._rebuild(changes, schema), rebuilt=True)

    def _applies(self, ch: Change, schema: TableSchema) -> bool:
        """False for an ``*_if_exists`` change that has nothing to do; an error for a bad name."""
        match ch:
            case AddColumn(if_not_exists=True):
                return schema.column(ch.name) is None
            case RemoveColumn() | ModifyColumn() if schema.column(ch.name) is None:
                if isinstance(ch, RemoveColumn) and ch.if_exists:
                    return False
                raise self._error(f'has no column "{ch.name}" for {describe(ch)}', "check the name")
            case DropConstraint() if not _constraint_exists(schema, ch.constraint.name):
                if ch.if_exists:
                    return False
                raise self._error(
                    f'has no constraint "{ch.constraint.name}"', "check the constraint's name"
                )
        return True

    def _native(self, changes: list[Change], schema: TableSchema | None) -> list[str] | None:
        table = self.dialect.qualified(self.table.name, self.table.prefix)
        out = []
        for ch in changes:
            if isinstance(ch, AddColumn) and self.dialect.natively_added(
                replace(ch, if_not_exists=False)
            ):
                definition = self.dialect.column_definition(self.table, ch)
                out.append(f"ALTER TABLE {table} ADD COLUMN {definition}")
            elif isinstance(ch, RemoveColumn) and (schema is None or _droppable(schema, ch.name)):
                out.append(f"ALTER TABLE {table} DROP COLUMN {self.dialect.quote(ch.name)}")
            else:
                return None
        return out

    # -- the rebuild -------------------------------------------------------------------

    def _rebuild(self, changes: list[Change], schema: TableSchema) -> list[str]:
        draft = _Draft(
            [(e.name or "", e.text) for e in schema.columns],
            [(e.constraint_name, e.text) for e in schema.elements if not e.is_column],
        )
        for ch in changes:
            _APPLY[type(ch)](self, draft, schema, ch)
        self._add_columns(draft, schema)
        q = self.dialect.quote
        name, new = schema.name, NEW_PREFIX + schema.name
        body = ", ".join([text for _, text in draft.columns] + [t for _, t in draft.constraints])
        create = f"CREATE TABLE {q(new)} ({body})" + (f" {schema.tail}" if schema.tail else "")
        copied = self._copied(draft, schema)
        statements = [
            create,
            f"INSERT INTO {q(new)} ({copied}) SELECT {copied} FROM {q(name)}",
            f"DROP TABLE {q(name)}",
            # Without it, SQLite re-checks every view and trigger during the rename and
            # fails on the ones that name the (just dropped) table.
            "PRAGMA legacy_alter_table = ON",
            f"ALTER TABLE {q(new)} RENAME TO {q(name)}",
            "PRAGMA legacy_alter_table = OFF",
        ]
        statements += [sql for _, sql in schema.indexes if not _uses(sql, draft.removed)]
        statements += list(schema.triggers)
        return statements + self._sequence(schema, create)

    def _copied(self, draft: _Draft, schema: TableSchema) -> str:
        new_names = {n.casefold() for n, _ in draft.columns}
        generated = {n.casefold() for n, text in draft.columns if _is_generated(text)}
        names = [
            e.name or ""
            for e in schema.columns
            if (e.name or "").casefold() in new_names - generated
            and (e.name or "").casefold() not in schema.generated
        ]
        # Keep rowids (and so the rows' identity) where no INTEGER PRIMARY KEY carries them.
        if not schema.without_rowid and schema.rowid_alias() is None:
            names.insert(0, "rowid")
        return ", ".join(self.dialect.quote(n) for n in names)

    def _sequence(self, schema: TableSchema, create: str) -> list[str]:
        """Keep the AUTOINCREMENT counter, so ids of deleted rows are still never reused."""
        words = {t.keyword for t in tokenize(create)}
        if schema.sequence is None or "AUTOINCREMENT" not in words:
            return []
        name, seq = self.dialect.string(schema.name), int(schema.sequence)
        return [
            f"UPDATE sqlite_sequence SET seq = {seq} WHERE name = {name} AND seq < {seq}",
            f"INSERT INTO sqlite_sequence (name, seq) SELECT {name}, {seq} "
            f"WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = {name})",
        ]

    # -- one function per change ----------------------------------------------------------

    def _add(self, draft: _Draft, schema: TableSchema, ch: AddColumn) -> None:
        draft.added.append(ch)

    def _add_columns(self, draft: _Draft, schema: TableSchema) -> None:
        if not draft.added:
            return
        if any(ch.opts.primary_key for ch in draft.added) and has_primary_key(schema.elements):
            raise self._error(
                "already has a primary key", "remove primary_key=True from the added column"
            )
        parts = self.dialect.table_elements(self.table, tuple(draft.added))
        draft.columns += [(ch.name, text) for ch, text in zip(draft.added, parts, strict=False)]
        draft.constraints += [(None, text) for text in parts[len(draft.added) :]]

    def _modify(self, draft: _Draft, schema: TableSchema, ch: ModifyColumn) -> None:
        n = _position(draft, ch.name)
        element = Element(draft.columns[n][1], tuple(tokenize(draft.columns[n][1])))
        d, o, t = self.dialect, ch.opts, self.table
        clauses = list(element.clauses)
        old = ch.from_[0] if ch.from_ else None
        fk_names = {
            reference_name(t.name, ch.name, r).casefold()
            for r in (old, ch.type)
            if isinstance(r, Reference)
        }
        clauses = [c for c in clauses if not _is_fk(c, fk_names, isinstance(old, Reference))]
        if o.null is not None:
            _put(clauses, ("not null", "null"), "" if o.null else "NOT NULL")
        if o.has_default:
            _put(clauses, ("default",), f"DEFAULT {d.literal(o.default, ch.type)}")
        if o.collation:
            _put(clauses, ("collate",), f"COLLATE {d.quote(o.collation)}")
        if o.generated:
            _put(clauses, ("generated",), f"GENERATED {o.generated}")
        if isinstance(ch.type, Reference) and ch.type.with_:
            draft.constraints.append((None, d.foreign_key(t, ch.name, ch.type)))
        elif isinstance(ch.type, Reference):
            fk = d.quote(reference_name(t.name, ch.name, ch.type))
            clauses.append(Clause("references", None, f"CONSTRAINT {fk}" + _refs(d, t, ch)))
        parts = [_name(element), d.column_type(ch.type, o), *(c.text for c in clauses if c.text)]
        draft.columns[n] = (draft.columns[n][0], " ".join(parts))

    def _remove(self, draft: _Draft, schema: TableSchema, ch: RemoveColumn) -> None:
        del draft.columns[_position(draft, ch.name)]
        draft.removed.add(ch.name.casefold())
        # As PostgreSQL does, constraints that involve the column go with it.
        draft.constraints = [
            (name, text)
            for name, text in draft.constraints
            if not mentions(tokenize(text), ch.name)
        ]
        for n, (column, text) in enumerate(draft.columns):
            element = Element(text, tuple(tokenize(text)))
            kept = [c for c in element.clauses if not mentions(tokenize(c.text), ch.name)]
            if len(kept) != len(element.clauses):
                draft.columns[n] = (column, _column_text(element, kept))

    def _create_constraint(self, draft: _Draft, schema: TableSchema, c: CreateConstraint) -> None:
        k = c.constraint
        if _constraint_exists(schema, k.name):
            raise self._error(f'already has a constraint "{k.name}"', "give the new one a new name")
        draft.constraints.append(
            (k.name.casefold(), f"CONSTRAINT {self.dialect.quote(k.name)} CHECK ({k.check})")
        )

    def _drop_constraint(self, draft: _Draft, schema: TableSchema, c: DropConstraint) -> None:
        folded = c.constraint.name.casefold()
        draft.constraints = [(n, t) for n, t in draft.constraints if n != folded]
        for i, (column, text) in enumerate(draft.columns):
            element = Element(text, tuple(tokenize(text)))
            kept = [cl for cl in element.clauses if cl.name != folded]
            if len(kept) != len(element.clauses):
                draft.columns[i] = (column, _column_text(element, kept))

    def _error(self, problem: str, fix: str) -> DatabaseError:
        return DatabaseError(f'SQLite table "{self.table.name}" {problem}: {fix}')


_APPLY: dict[type, Callable[[TablePlan, _Draft, TableSchema, Any], None]] = {
    AddColumn: TablePlan._add,
    ModifyColumn: TablePlan._modify,
    RemoveColumn: TablePlan._remove,
    CreateConstraint: TablePlan._create_constraint,
    DropConstraint: TablePlan._drop_constraint,
}


@dataclass(frozen=True)
class IndexRename:
    """``rename(index(...), to=...)``: SQLite has no ALTER INDEX, so drop and create again."""

    index: Index
    to: str
    dialect: SQLiteDialect = field(repr=False, compare=False)
    may_rebuild = False

    def preview(self) -> str:
        q = self.dialect.quote
        return (
            f"-- rename index {q(self.index.name)} to {q(self.to)}: SQLite drops it and creates "
            "it again from its definition when the migration runs"
        )

    def expand(self, sql: str | None) -> list[str]:
        """``sql`` is the index's ``CREATE INDEX`` from the catalog (None: not found)."""
        name = self.index.name
        if sql is None:
            raise DatabaseError(
                f'SQLite has no index "{name}" created with CREATE INDEX to rename: check the '
                "name (the automatic index of a UNIQUE constraint cannot be renamed)"
            )
        tokens = tokenize(sql)
        at = _index_name_position(tokens)
        new_name = self.dialect.quote(self.to)
        renamed = "".join(new_name if n == at else t.text for n, t in enumerate(tokens))
        return [f"DROP INDEX {self.dialect.quote(name)}", renamed]


def _index_name_position(tokens: list[Token]) -> int:
    """The index of the name token in ``CREATE [UNIQUE] INDEX [IF NOT EXISTS] [schema.]name``."""
    sig = [n for n, t in enumerate(tokens) if t.kind not in ("ws", "comment")]
    words = [tokens[n].keyword for n in sig]
    at = words.index("INDEX") + 1
    if words[at : at + 3] == ["IF", "NOT", "EXISTS"]:
        at += 3
    if at + 1 < len(sig) and tokens[sig[at + 1]].text == ".":
        at += 2
    return sig[at]


# -- helpers ---------------------------------------------------------------------------------


def _name(element: Element) -> str:
    """The column's name as written (quoted or not): the text starts with it."""
    return element.tokens[0].text


def _column_text(element: Element, clauses: list[Clause]) -> str:
    """The column with its name and type as written and only ``clauses``."""
    return " ".join(
        part for part in (_name(element), element.type, *(c.text for c in clauses)) if part
    )


def _position(draft: _Draft, name: str) -> int:
    folded = name.casefold()
    return next(n for n, (column, _) in enumerate(draft.columns) if column.casefold() == folded)


def _put(clauses: list[Clause], kinds: tuple[str, ...], text: str) -> None:
    """Replace the first clause of ``kinds`` with ``text`` (removing the others), or append."""
    at = next((n for n, c in enumerate(clauses) if c.kind in kinds), None)
    clauses[:] = [c for n, c in enumerate(clauses) if c.kind not in kinds or n == at]
    if at is None:
        clauses.append(Clause(kinds[0], None, text))
    else:
        clauses[at] = Clause(kinds[0], None, text)


def _is_fk(clause: Clause, names: set[str], drop_unnamed: bool) -> bool:
    if clause.kind != "references":
        return False
    return clause.name in names or (drop_unnamed and clause.name is None)


def _refs(dialect: SQLiteDialect, table: Table, ch: ModifyColumn) -> str:
    assert isinstance(ch.type, Reference)
    return dialect.references_clause(table, ch.name, ch.type)


def _is_generated(text: str) -> bool:
    return any(c.kind == "generated" for c in Element(text, tuple(tokenize(text))).clauses)


def _uses(index_sql: str, columns: set[str]) -> bool:
    """Whether an index's column list or WHERE clause names one of ``columns``."""
    tokens = tokenize(index_sql)
    start = next((n for n, t in enumerate(tokens) if t.text == "("), len(tokens))
    return any(mentions(tokens[start:], column) for column in columns)


def _droppable(schema: TableSchema, name: str) -> bool:
    """Whether ``ALTER TABLE DROP COLUMN`` can drop it (SQLite's own list of obstacles)."""
    element = schema.column(name)
    if element is None:
        return True  # let SQLite report the missing column
    if any(c.kind in ("primary key", "unique", "references") for c in element.clauses):
        return False
    others = [e for e in schema.elements if e is not element]
    if any(e.mentions(name) for e in others):
        return False
    return not any(_uses(sql, {name.casefold()}) for _, sql in schema.indexes)


def _constraint_exists(schema: TableSchema, name: str) -> bool:
    folded = name.casefold()
    if any(e.constraint_name == folded for e in schema.elements):
        return True
    return any(c.name == folded for e in schema.columns for c in e.clauses)
