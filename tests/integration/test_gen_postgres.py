"""Generated migrations really run on PostgreSQL, and really roll back.

Each case writes the generator's output into a fresh project, applies it on a
fresh database, checks the catalog (tables, columns, indexes, foreign keys,
types, triggers), rolls it back and checks that the catalog is as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from migration_helpers import Catalog, migrator, write_change

from golden.cases import GOLDEN, OUTBOX_CASES, TEMPLATE_NAMES, VERSION
from whimbrel.generators import (
    Outbox,
    load_domain,
    relay_query,
    render_domain,
    render_migration,
    render_outbox,
)

SETUP = 10  # version of the setup migration; generated ones use VERSION (later)


class PgCatalog(Catalog):
    """``Catalog`` plus the objects generators make beyond tables and indexes."""

    def foreign_keys(self, schema: str = "public") -> set[tuple[str, str, str, str]]:
        """(table, constraint, referenced table, ON DELETE action letter)."""
        sql = (
            "SELECT c.conrelid::regclass::text, c.conname, c.confrelid::regclass::text, "
            "c.confdeltype FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE c.contype = 'f' AND n.nspname = %s"
        )
        return {tuple(r) for r in self._rows(sql, (schema,))}  # type: ignore[misc]

    def not_null(self, table: str, schema: str = "public") -> set[str]:
        sql = (
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND is_nullable = 'NO'"
        )
        return {r[0] for r in self._rows(sql, (schema, table))}

    def objects(self) -> dict[str, Any]:
        """Everything a generated migration may create, to compare before and after."""
        return {
            "tables": {
                t: v
                for t, v in self.snapshot().items()
                if not t.startswith("schema_migrations")  # whimbrel's table and side tables
            },
            "fks": self.foreign_keys(),
            "types": self._names("SELECT typname FROM pg_type t JOIN pg_namespace n "
                                 "ON n.oid = t.typnamespace WHERE n.nspname = 'public' "
                                 "AND t.typtype = 'e'"),
            "triggers": self._names("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"),
            "functions": self._names("SELECT p.proname FROM pg_proc p JOIN pg_namespace n "
                                     "ON n.oid = p.pronamespace WHERE n.nspname = 'public'"),
        }  # fmt: skip

    def _names(self, sql: str) -> set[str]:
        return {r[0] for r in self._rows(sql)}


def _write(project: Path, name: str, source: str, version: str = VERSION) -> Path:
    path = project / "migrations" / f"{version}_{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


def _setup(project: Path) -> None:
    """The tables the templates that change an existing table act on."""
    write_change(
        project,
        SETUP,
        "setup",
        """
        with create(table("posts")):
            add("title", "string")
            add("slug", "string")
            timestamps()
        create(table("authors"))
        """,
    )


def _sql(url: str, *statements: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows: list[tuple[Any, ...]] = []
        for statement in statements:
            cursor = conn.execute(statement)  # type: ignore[call-overload]
            rows = cursor.fetchall() if cursor.description else []
        return rows


# -- templates -----------------------------------------------------------------------------

TEMPLATE_EFFECTS = {
    "blank": lambda c: True,
    "create_table": lambda c: c.columns("posts") == ["id", "name", "inserted_at", "updated_at"],
    "alter_table": lambda c: "new_column" in c.columns("posts"),
    "add_column": lambda c: "summary" in c.columns("posts"),
    "add_index": lambda c: "posts_title_slug_index" in c.indexes("posts"),
    "add_foreign_key": lambda c: (
        ("posts", "posts_author_id_fkey", "authors", "a") in c.foreign_keys()
        and "posts_author_id_index" in c.indexes("posts")
    ),
    "add_trigger": lambda c: "posts_set_updated_at" in c.objects()["triggers"],
    "create_enum": lambda c: (
        "post_status" in c.objects()["types"] and "status" in c.not_null("posts")
    ),
}


@pytest.mark.parametrize("template", list(TEMPLATE_NAMES))
def test_each_template_applies_and_rolls_back(tmp_path: Path, pg_url: str, template: str) -> None:
    name = TEMPLATE_NAMES[template]
    if template != "create_table":
        _setup(tmp_path)
    _write(tmp_path, name, render_migration(name, template))
    catalog = PgCatalog(pg_url)
    with migrator(tmp_path, pg_url) as m:
        if template != "create_table":
            m.up(to=SETUP)
        before = catalog.objects()
        assert m.up() == [int(VERSION)]
        assert TEMPLATE_EFFECTS[template](catalog)
        assert (catalog.objects() != before) == (template != "blank")
        assert m.down() == [int(VERSION)]
    assert catalog.objects() == before


def test_foreign_key_to_a_role_column_applies_on_postgres(tmp_path: Path, pg_url: str) -> None:
    write_change(tmp_path, SETUP, "setup", 'create(table("users"))\ncreate(table("invoices"))')
    name = "add_created_by_id_to_invoices"
    _write(tmp_path, name, render_migration(name, "add_foreign_key"))
    catalog = PgCatalog(pg_url)
    with migrator(tmp_path, pg_url) as m:
        assert m.up() == [SETUP, int(VERSION)]
        fk = ("invoices", "invoices_created_by_id_fkey", "users", "a")
        assert fk in catalog.foreign_keys()
        assert m.down() == [int(VERSION)]
    assert catalog.foreign_keys() == set()


def test_the_trigger_keeps_updated_at_current(tmp_path: Path, pg_url: str) -> None:
    _setup(tmp_path)
    name = TEMPLATE_NAMES["add_trigger"]
    _write(tmp_path, name, render_migration(name, "add_trigger"))
    with migrator(tmp_path, pg_url) as m:
        m.up()
    (updated,) = _sql(
        pg_url,
        "INSERT INTO posts (title, inserted_at, updated_at) "
        "VALUES ('a', '2000-01-01', '2000-01-01')",
        "UPDATE posts SET title = 'b'",
        "SELECT updated_at > '2001-01-01' FROM posts",
    )
    assert updated == (True,)


# -- outbox ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(OUTBOX_CASES))
def test_outbox_applies_and_rolls_back(tmp_path: Path, pg_url: str, case: str) -> None:
    spec = Outbox(**OUTBOX_CASES[case])
    schema = spec.prefix or "public"
    if spec.prefix:
        write_change(
            tmp_path,
            SETUP,
            "schema",
            f'execute("CREATE SCHEMA {spec.prefix}", "DROP SCHEMA {spec.prefix}")',
        )
    _write(tmp_path, spec.migration_name, render_outbox(spec))
    catalog = PgCatalog(pg_url)
    with migrator(tmp_path, pg_url) as m:
        m.up()
        assert spec.table in catalog.tables(schema)
        assert catalog.columns(spec.table, schema) == [
            "id", "topic", "payload", "headers", "attempt", "relayed_at", "failed_at",
            "last_error", "inserted_at", "updated_at",
        ]  # fmt: skip
        expected = {spec.pending_index, spec.failed_index} if spec.indexes else set()
        assert catalog.indexes(spec.table, schema) == expected
        assert catalog.not_null(spec.table, schema) == {
            "id", "topic", "payload", "headers", "attempt", "inserted_at", "updated_at"
        }  # fmt: skip
        m.down(to=int(VERSION))
    assert spec.table not in catalog.tables(schema)


def test_outbox_defaults_fill_a_minimal_insert(tmp_path: Path, pg_url: str) -> None:
    _write(tmp_path, "create_outbox_messages", render_outbox(Outbox()))
    with migrator(tmp_path, pg_url) as m:
        m.up()
    rows = _sql(
        pg_url,
        "INSERT INTO outbox_messages (topic, payload, inserted_at, updated_at) "
        "VALUES ('t', '{\"a\": 1}', now(), now())",
        "SELECT length(id::text), headers::text, attempt FROM outbox_messages",
    )
    assert rows == [(36, "{}", 1)]


@pytest.mark.parametrize("prefix", [None, "queue"])
def test_the_relay_query_uses_the_pending_index(
    tmp_path: Path, pg_url: str, prefix: str | None
) -> None:
    spec = Outbox(prefix=prefix)
    if prefix:
        write_change(
            tmp_path, SETUP, "schema", f'execute("CREATE SCHEMA {prefix}", "DROP SCHEMA {prefix}")'
        )
    _write(tmp_path, spec.migration_name, render_outbox(spec))
    with migrator(tmp_path, pg_url) as m:
        m.up()
    table = f"{prefix}.outbox_messages" if prefix else "outbox_messages"
    plan = _sql(
        pg_url,
        f"INSERT INTO {table} (topic, payload, relayed_at, inserted_at, updated_at) "
        "SELECT 't', '{}', now(), now() - g * interval '1 second', now() "
        "FROM generate_series(1, 5000) g",
        f"INSERT INTO {table} (topic, payload, inserted_at, updated_at) "
        "SELECT 't', '{}', now() - g * interval '1 second', now() FROM generate_series(1, 5) g",
        f"INSERT INTO {table} (topic, payload, failed_at, inserted_at, updated_at) "
        "VALUES ('t', '{}', now(), now(), now())",
        f"ANALYZE {table}",
        "EXPLAIN " + relay_query(spec.table, prefix),
    )
    text = "\n".join(r[0] for r in plan)
    assert "outbox_messages_pending_idx" in text, text
    assert "Seq Scan" not in text, text
    pending = _sql(pg_url, relay_query(spec.table, prefix))
    assert len(pending) == 5


# -- domain ----------------------------------------------------------------------------------


def _apply_domain(project: Path, url: str, name: str) -> PgCatalog:
    path, source = render_domain(load_domain(GOLDEN / "domain" / f"{name}.toml"), VERSION)
    _write(project, path.stem.split("_", 1)[1], source)
    return PgCatalog(url)


def test_domain_with_a_cycle_applies_and_rolls_back(tmp_path: Path, pg_url: str) -> None:
    catalog = _apply_domain(tmp_path, pg_url, "library")
    with migrator(tmp_path, pg_url) as m:
        m.up()
        assert catalog.user_tables() == {"authors", "books", "categories", "reviews"}
        assert catalog.foreign_keys() == {
            ("authors", "authors_favorite_book_id_fkey", "books", "n"),
            ("books", "books_author_id_fkey", "authors", "c"),
            ("books", "books_category_id_fkey", "categories", "n"),
            ("categories", "categories_parent_id_fkey", "categories", "n"),
            ("reviews", "reviews_book_id_fkey", "books", "c"),
            ("reviews", "reviews_reviewer_id_fkey", "authors", "n"),
        }
        assert catalog.indexes("books") == {"books_author_id_index", "books_category_id_index"}
        assert catalog.indexes("authors") == {"authors_favorite_book_id_index"}
        assert catalog.columns("authors") == [
            "id", "name", "bio", "inserted_at", "updated_at", "favorite_book_id",
        ]  # fmt: skip
        assert catalog.not_null("books") == {
            "id", "title", "metadata", "author_id", "inserted_at", "updated_at"
        }  # fmt: skip
        m.down()
    assert catalog.user_tables() == set()
    assert catalog.foreign_keys() == set()


def test_domain_defaults_and_keys_work(tmp_path: Path, pg_url: str) -> None:
    _apply_domain(tmp_path, pg_url, "library")
    with migrator(tmp_path, pg_url) as m:
        m.up()
    rows = _sql(
        pg_url,
        "INSERT INTO authors (name, inserted_at, updated_at) VALUES ('a', now(), now())",
        "INSERT INTO books (title, author_id, inserted_at, updated_at) "
        "SELECT 'b', id, now(), now() FROM authors",
        "SELECT price::text, published_on = CURRENT_DATE, metadata::text FROM books",
    )
    assert rows == [("0.00", True, "{}")]
    assert _sql(pg_url, "DELETE FROM authors", "SELECT count(*) FROM books") == [(0,)]


def test_multi_tenant_domain_applies_and_rolls_back(tmp_path: Path, pg_url: str) -> None:
    catalog = _apply_domain(tmp_path, pg_url, "crm")
    with migrator(tmp_path, pg_url) as m:
        m.up()
        tables = {"accounts", "contacts", "deals", "tags"}
        assert catalog.user_tables() == tables
        for table in tables:
            assert catalog.columns(table)[:2] == ["id", "tenant_id"]
            assert "tenant_id" in catalog.not_null(table)
        assert catalog.indexes("deals") == {
            "deals_tenant_id_account_id_index", "deals_tenant_id_contact_id_index"
        }  # fmt: skip
        assert catalog.indexes("contacts") == {"contacts_tenant_id_account_id_index"}
        assert catalog.indexes("tags") == {"tags_tenant_id_index"}
        assert ("deals", "deals_contact_id_fkey", "contacts", "n") in catalog.foreign_keys()
        m.down()
    assert catalog.user_tables() == set()
