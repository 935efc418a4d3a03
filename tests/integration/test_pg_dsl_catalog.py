"""The PostgreSQL round-trip harness used by the test_pg_dsl_* files and test_patterns.py.

``PgSchema`` reads a database's schema straight from the PostgreSQL catalog
(never through whimbrel): tables with their persistence, options, partition
key, parents and comments; columns with type, nullability, default,
identity, generation, collation and comment; indexes (``pg_get_indexdef``,
validity, comment); constraints (``pg_get_constraintdef``, validity,
comment); enum and other user types; sequences; functions; triggers;
extensions and schemas. ``snapshot()`` gathers all of it, so "rolled back"
can be checked as "the snapshot equals the one taken before the migration".

``round_trip`` drives one migration through the real ``Migrator``: the SQL
the migrator would run (``dry_run``) must be exactly the expected
statements, up must change the schema as the test says, and down must give
back the schema exactly as it was.

The tests in this file prove the snapshot notices each kind of change, so a
round trip cannot pass because the snapshot was blind to what went wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from migration_helpers import write, write_change, write_up_down

import whimbrel
from whimbrel.config import load_config

VERSIONS = "schema_migrations"
# whimbrel's own tables: the versions table and its side tables (checksums, journal, lease).
OWN_TABLES = ", ".join(
    f"'{VERSIONS}{suffix}'" for suffix in ("", "_checksums", "_progress", "_lock")
)
USER_SCHEMAS = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"


@dataclass(frozen=True)
class Column:
    type: str
    not_null: bool
    default: str | None = None
    identity: str = ""  # "a" ALWAYS, "d" BY DEFAULT
    generated: str = ""  # "s" STORED
    collation: str | None = None  # only when it differs from the type's
    comment: str | None = None


@dataclass(frozen=True)
class Relation:
    kind: str  # r table, p partitioned table, v view, S sequence
    persistence: str  # p permanent, u unlogged
    options: tuple[str, ...] = ()
    comment: str | None = None
    partition_key: str | None = None
    parents: tuple[str, ...] = ()
    partition_bound: str | None = None


@dataclass(frozen=True)
class IndexInfo:
    table: str
    definition: str
    valid: bool = True
    comment: str | None = None


@dataclass(frozen=True)
class ConstraintInfo:
    type: str  # c check, f foreign key, p primary key, u unique, x exclusion
    definition: str
    validated: bool = True
    comment: str | None = None


@dataclass(frozen=True)
class TypeInfo:
    kind: str  # e enum, d domain, r range, c composite
    labels: tuple[str, ...] = ()
    comment: str | None = None


class PgSchema:
    """Everything a migration can change in a PostgreSQL database, read from the catalog."""

    def __init__(self, url: str):
        self.url = url

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with closing(psycopg.connect(self.url, autocommit=True)) as conn:
            # No parameters: None, so that the % in LIKE patterns is not a placeholder.
            args = tuple(params) or None
            return list(conn.execute(sql, args).fetchall())  # type: ignore[arg-type]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.rows(sql, params)
        assert len(rows) == 1, rows
        return rows[0][0]

    # -- one kind of object each ---------------------------------------------------------

    def schemas(self) -> set[str]:
        return {
            r[0] for r in self.rows(f"SELECT n.nspname FROM pg_namespace n WHERE {USER_SCHEMAS}")
        }

    def relations(self) -> dict[tuple[str, str], Relation]:
        sql = f"""
            SELECT n.nspname, c.relname, c.relkind, c.relpersistence,
                   coalesce(c.reloptions, '{{}}'), obj_description(c.oid, 'pg_class'),
                   pg_get_partkeydef(c.oid),
                   ARRAY(SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                         WHERE i.inhrelid = c.oid ORDER BY i.inhseqno),
                   CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND c.relname NOT IN ({OWN_TABLES})
        """
        return {
            (r[0], r[1]): Relation(r[2], r[3], tuple(r[4]), r[5], r[6], tuple(r[7]), r[8])
            for r in self.rows(sql)
        }

    def table(self, name: str, schema: str = "public") -> Relation:
        return self.relations()[(schema, name)]

    def columns(self, table: str | None = None, schema: str = "public") -> dict[Any, Column]:
        """Columns by name (of ``table``), or by (schema, table, name) for every table.

        Keyed by name, not position: a column dropped and added back on
        rollback comes back last, and PostgreSQL cannot put it elsewhere.
        """
        sql = f"""
            SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                   CASE WHEN a.attcollation <> t.typcollation THEN co.collname END,
                   col_description(c.oid, a.attnum)
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            LEFT JOIN pg_collation co ON co.oid = a.attcollation
            WHERE {USER_SCHEMAS} AND a.attnum > 0 AND NOT a.attisdropped
              AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname NOT IN ({OWN_TABLES})
        """
        every = {
            (r[0], r[1], r[2]): Column(r[3], r[4], r[5], r[6], r[7], r[8], r[9])
            for r in self.rows(sql)
        }
        if table is None:
            return every
        return {k[2]: v for k, v in every.items() if k[:2] == (schema, table)}

    def column_names(self, table: str, schema: str = "public") -> list[str]:
        """Column names in table order (for checks of where a column went)."""
        return [
            r[0]
            for r in self.rows(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                (f'"{schema}"."{table}"',),
            )
        ]

    def indexes(self) -> dict[tuple[str, str], IndexInfo]:
        sql = f"""
            SELECT n.nspname, i.relname, t.relname, pg_get_indexdef(i.oid), x.indisvalid,
                   obj_description(i.oid, 'pg_class')
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = i.relnamespace
            WHERE {USER_SCHEMAS} AND t.relname NOT IN ({OWN_TABLES})
        """
        return {(r[0], r[1]): IndexInfo(r[2], r[3], r[4], r[5]) for r in self.rows(sql)}

    def index(self, name: str, schema: str = "public") -> IndexInfo:
        return self.indexes()[(schema, name)]

    def constraints(self) -> dict[tuple[str, str, str], ConstraintInfo]:
        sql = f"""
            SELECT n.nspname, coalesce(c.relname, ''), k.conname, k.contype,
                   pg_get_constraintdef(k.oid), k.convalidated,
                   obj_description(k.oid, 'pg_constraint')
            FROM pg_constraint k
            JOIN pg_namespace n ON n.oid = k.connamespace
            LEFT JOIN pg_class c ON c.oid = k.conrelid
            WHERE {USER_SCHEMAS} AND coalesce(c.relname, '') NOT IN ({OWN_TABLES})
        """
        return {(r[0], r[1], r[2]): ConstraintInfo(r[3], r[4], r[5], r[6]) for r in self.rows(sql)}

    def constraint(self, table: str, name: str, schema: str = "public") -> ConstraintInfo:
        return self.constraints()[(schema, table, name)]

    def types(self) -> dict[tuple[str, str], TypeInfo]:
        sql = f"""
            SELECT n.nspname, t.typname, t.typtype,
                   ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid
                         ORDER BY e.enumsortorder),
                   obj_description(t.oid, 'pg_type')
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE {USER_SCHEMAS} AND (t.typtype IN ('e', 'd', 'r')
              OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
        """
        return {(r[0], r[1]): TypeInfo(r[2], tuple(r[3]), r[4]) for r in self.rows(sql)}

    def enum_labels(self, name: str, schema: str = "public") -> list[str]:
        return list(self.types()[(schema, name)].labels)

    def sequences(self) -> dict[tuple[str, str], tuple[int, int]]:
        sql = f"""
            SELECT n.nspname, c.relname, s.seqstart, s.seqincrement
            FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_SCHEMAS}
        """
        return {(r[0], r[1]): (r[2], r[3]) for r in self.rows(sql)}

    def functions(self) -> dict[tuple[str, str, str], str]:
        sql = f"""
            SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
                   pg_get_functiondef(p.oid)
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE {USER_SCHEMAS} AND p.prokind IN ('f', 'p')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
        """
        return {(r[0], r[1], r[2]): r[3] for r in self.rows(sql)}

    def triggers(self) -> dict[tuple[str, str], str]:
        sql = """
            SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
        """
        return {(r[0], r[1]): r[2] for r in self.rows(sql)}

    def extensions(self) -> set[str]:
        return {r[0] for r in self.rows("SELECT extname FROM pg_extension")}

    # -- all of it -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole user schema (minus the versions table), for before/after comparisons."""
        return {
            "schemas": self.schemas(),
            "relations": self.relations(),
            "columns": self.columns(),
            "indexes": self.indexes(),
            "constraints": self.constraints(),
            "types": self.types(),
            "sequences": self.sequences(),
            "functions": self.functions(),
            "triggers": self.triggers(),
            "extensions": self.extensions(),
        }


# -- driving migrations ----------------------------------------------------------------------


def make_migrator(
    project: Path, url: str, out: Callable[[str], None] | None = None, **config: Any
) -> whimbrel.Migrator:
    """A Migrator for ``project`` (and its whimbrel.toml), ignoring the environment."""
    settings = load_config(cwd=project, env={}, overrides={"database_url": url, **config})
    return whimbrel.Migrator(settings, out=out or (lambda _line: None))


def planned_sql(m: whimbrel.Migrator, direction: str) -> list[str]:
    """The migration statements a dry run prints for one step, without bookkeeping."""
    lines: list[str] = []
    m.out = lines.append
    try:
        m.run(direction, step=1, dry_run=True)  # type: ignore[arg-type]
    finally:
        m.out = lambda _line: None
    return [
        line.removesuffix(";")
        for line in lines
        if not line.startswith("--") and line not in ("BEGIN;", "COMMIT;") and VERSIONS not in line
    ]


@dataclass
class RoundTrip:
    """One migration, applied and rolled back on a real database, checked at each step."""

    project: Path
    url: str
    config: dict[str, Any]

    @property
    def schema(self) -> PgSchema:
        return PgSchema(self.url)

    def migrator(self) -> whimbrel.Migrator:
        return make_migrator(self.project, self.url, **self.config)

    def setup(self, body: str) -> None:
        """Apply a first migration (``change()`` holding ``body``) that the case builds on."""
        write_change(self.project, 1, "setup", body)
        with self.migrator() as m:
            assert m.up() == [1]

    def write(
        self, body: str | None = None, *, up: str = "", down: str = "", flags: str = ""
    ) -> None:
        if body is not None:
            write_change(self.project, 2, "case", body, flags=flags)
        else:
            write_up_down(self.project, 2, "case", up, down, flags=flags)

    def run(
        self,
        body: str | None = None,
        *,
        up: str = "",
        down: str = "",
        flags: str = "",
        up_sql: Sequence[str] | None = None,
        down_sql: Sequence[str] | None = None,
        check: Callable[[PgSchema], object] | None = None,
    ) -> None:
        """Up (checked by ``check``), then down, which must restore the schema exactly."""
        self.write(body, up=up, down=down, flags=flags)
        before = self.schema.snapshot()
        with self.migrator() as m:
            if up_sql is not None:
                assert planned_sql(m, "up") == list(up_sql)
            assert m.run("up", step=1) == [2]
        after = self.schema.snapshot()
        assert after != before, "the migration changed nothing in the catalog"
        if check is not None:
            # A check asserts, or returns False for "wrong" (handy in a lambda).
            assert check(self.schema) is not False, "the catalog after up is not as expected"
        with self.migrator() as m:
            if down_sql is not None:
                assert planned_sql(m, "down") == list(down_sql)
            assert m.run("down", step=1) == [2]
        assert_same_schema(self.schema.snapshot(), before)


def assert_same_schema(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Compare snapshots part by part, so a failure names the part and the difference."""
    for part in expected:
        assert actual[part] == expected[part], f"{part} differ after rollback"


@pytest.fixture
def rt(tmp_path: Path, pg_url: str) -> RoundTrip:
    return RoundTrip(tmp_path, pg_url, {})


def sql_file(project: Path, name: str, text: str) -> Path:
    """A SQL file under the migrations folder (for execute_file); ``name`` may hold folders."""
    path = project / "migrations" / name
    return write(path.parent, path.name, text)


# -- the snapshot sees every kind of change --------------------------------------------------

BASE = """
    CREATE TYPE mood AS ENUM ('happy', 'sad');
    CREATE TABLE people (
        id bigserial PRIMARY KEY, name text NOT NULL DEFAULT 'x', mood mood,
        age integer CONSTRAINT adult CHECK (age >= 18)
    );
    CREATE INDEX people_name_index ON people (name);
    CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TRIGGER touch BEFORE UPDATE ON people FOR EACH ROW EXECUTE FUNCTION touch();
"""

CHANGES = [
    pytest.param("ALTER TABLE people ALTER COLUMN name SET DEFAULT 'y'", "columns", id="default"),
    pytest.param("ALTER TABLE people ALTER COLUMN name DROP NOT NULL", "columns", id="null"),
    pytest.param("ALTER TABLE people ALTER COLUMN name TYPE varchar(9)", "columns", id="type"),
    pytest.param(
        'ALTER TABLE people ALTER COLUMN name TYPE text COLLATE "C"', "columns", id="coll"
    ),
    pytest.param("COMMENT ON COLUMN people.name IS 'n'", "columns", id="column-comment"),
    pytest.param("COMMENT ON TABLE people IS 't'", "relations", id="table-comment"),
    pytest.param("ALTER TABLE people SET UNLOGGED", "relations", id="unlogged"),
    pytest.param("ALTER TABLE people SET (fillfactor = 70)", "relations", id="table-options"),
    pytest.param("ALTER TYPE mood ADD VALUE 'meh'", "types", id="enum-value"),
    pytest.param("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'", "types", id="enum-rename"),
    pytest.param("COMMENT ON TYPE mood IS 'm'", "types", id="type-comment"),
    pytest.param("DROP INDEX people_name_index", "indexes", id="index"),
    pytest.param("COMMENT ON INDEX people_name_index IS 'i'", "indexes", id="index-comment"),
    pytest.param(
        "ALTER TABLE people DROP CONSTRAINT adult, ADD CONSTRAINT adult CHECK (age >= 18) "
        "NOT VALID",
        "constraints",
        id="constraint-validity",
    ),
    pytest.param("COMMENT ON CONSTRAINT adult ON people IS 'c'", "constraints", id="con-comment"),
    pytest.param("ALTER SEQUENCE people_id_seq INCREMENT BY 2", "sequences", id="sequence"),
    pytest.param(
        "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN OLD; END $$",
        "functions",
        id="function-body",
    ),
    pytest.param("ALTER TRIGGER touch ON people RENAME TO touched", "triggers", id="trigger"),
    pytest.param("CREATE SCHEMA other", "schemas", id="schema"),
    pytest.param("CREATE EXTENSION btree_gist", "extensions", id="extension"),
]


@pytest.mark.parametrize(("ddl", "part"), CHANGES)
def test_the_snapshot_notices_each_kind_of_change(pg_url: str, ddl: str, part: str) -> None:
    schema = PgSchema(pg_url)
    with closing(psycopg.connect(pg_url, autocommit=True)) as conn:
        conn.execute(BASE)  # type: ignore[arg-type]
        before = schema.snapshot()
        conn.execute(ddl)  # type: ignore[arg-type]
    after = schema.snapshot()
    changed = [p for p in before if before[p] != after[p]]
    assert part in changed


def test_the_snapshot_leaves_out_the_versions_table(pg_url: str) -> None:
    schema = PgSchema(pg_url)
    before = schema.snapshot()
    with closing(psycopg.connect(pg_url, autocommit=True)) as conn:
        conn.execute(f'CREATE TABLE "{VERSIONS}" (version bigint PRIMARY KEY)')
    assert schema.snapshot() == before


def test_planned_sql_is_the_migration_sql_only(tmp_path: Path, pg_url: str) -> None:
    write_change(tmp_path, 1, "posts", 'create(table("posts"))')
    with make_migrator(tmp_path, pg_url) as m:
        assert planned_sql(m, "up") == ['CREATE TABLE "posts" ("id" bigserial, PRIMARY KEY ("id"))']
        m.up()
        assert planned_sql(m, "down") == ['DROP TABLE "posts"']
