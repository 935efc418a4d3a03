"""docs/patterns.md: every example migration runs up and down on PostgreSQL, and the page
quotes each file exactly as it is.

The examples in docs/patterns/ build one schema in order. The test applies
them one at a time, checks the catalog (and, in a transaction that is rolled
back, how the database now behaves) after each, then rolls them back one at a
time and checks that each rollback restores the schema exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors
from test_pg_dsl_catalog import (
    Column,
    ConstraintInfo,
    PgSchema,
    TypeInfo,
    assert_same_schema,
    make_migrator,
)

from whimbrel.migrator.files import discover

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = ROOT / "docs" / "patterns"
PAGE = ROOT / "docs" / "patterns.md"
FILES = sorted(PATTERNS.glob("*.py"))

# How the page quotes a file: a link to it, a blank line, then the whole file.
QUOTE = re.compile(
    r"\[`patterns/(?P<name>[^`]+)`\]\(patterns/(?P=name)\):\n\n```python\n(?P<code>.*?)```",
    re.DOTALL,
)


# --- the page ---------------------------------------------------------------------------------


def test_the_page_quotes_every_pattern_file_exactly() -> None:
    quoted = {m["name"]: m["code"] for m in QUOTE.finditer(PAGE.read_text(encoding="utf-8"))}
    assert sorted(quoted) == [f.name for f in FILES], "patterns.md and docs/patterns/ disagree"
    for file in FILES:
        assert quoted[file.name] == file.read_text(encoding="utf-8"), (
            f"docs/patterns.md quotes an old version of {file.name}: paste the file in again"
        )


def test_every_pattern_file_is_a_migration() -> None:
    assert len(FILES) >= 10
    assert [f.path.name for f in discover(PATTERNS)] == [f.name for f in FILES]


# --- running them -----------------------------------------------------------------------------


@contextmanager
def scratch(url: str) -> Iterator[psycopg.Connection]:
    """A transaction that is always rolled back, so data checks leave nothing behind."""
    with closing(psycopg.connect(url)) as conn:
        try:
            yield conn
        finally:
            conn.rollback()


def refused(conn: psycopg.Connection, sql: str, error: type[Exception]) -> None:
    with pytest.raises(error), conn.transaction():  # a savepoint: the rest goes on
        conn.execute(sql)  # type: ignore[arg-type]


def one(conn: psycopg.Connection, sql: str) -> object:
    row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def add_user_and_post(
    conn: psycopg.Connection, email: str = "ann@example.com"
) -> tuple[object, object]:
    user = one(
        conn,
        "INSERT INTO users (email, inserted_at, updated_at) "
        f"VALUES ('{email}', now(), now()) RETURNING id",
    )
    post = one(
        conn,
        "INSERT INTO posts (author_id, title, inserted_at, updated_at) "
        f"VALUES ('{user}', 'Hello', now(), now()) RETURNING id",
    )
    return user, post


def uuid_keys(db: PgSchema) -> None:
    key = Column("uuid", True, "gen_random_uuid()")
    assert db.columns("users")["id"] == key
    assert db.columns("posts")["id"] == key
    assert db.columns("posts")["author_id"] == Column("uuid", True)
    assert db.constraint("posts", "posts_author_id_fkey").definition == (
        "FOREIGN KEY (author_id) REFERENCES users(id) ON DELETE CASCADE"
    )
    assert "(lower((email)::text))" in db.index("users_email_index").definition
    with scratch(db.url) as conn:
        user, _ = add_user_and_post(conn)
        refused(
            conn,
            "INSERT INTO users (email, inserted_at, updated_at) "
            "VALUES ('ANN@example.com', now(), now())",
            errors.UniqueViolation,
        )
        conn.execute(f"DELETE FROM users WHERE id = '{user}'")  # type: ignore[arg-type]
        assert one(conn, "SELECT count(*) FROM posts") == 0  # on_delete="delete_all"


def alter_posts(db: PgSchema) -> None:
    columns = db.columns("posts")
    assert "legacy_id" not in columns
    assert columns["title"] == Column("text", True)
    assert columns["slug"].type == "character varying(160)"
    assert columns["metadata"] == Column("jsonb", True, "'{}'::jsonb")
    assert columns["tags"] == Column("text[]", True, "ARRAY[]::text[]")
    assert columns["editor_id"] == Column("uuid", False)


def indexes(db: PgSchema) -> None:
    found = {name: i.definition.split(" USING ", 1)[1] for (_, name), i in db.indexes().items()}
    assert found["posts_author_feed_index"] == "btree (author_id, inserted_at DESC)"
    assert found["posts_slug_index"] == "btree (slug) WHERE (published_at IS NOT NULL)"
    assert found["posts_metadata_index"] == "gin (metadata jsonb_path_ops)"
    assert found["posts_tags_index"] == "gin (tags)"
    assert found["posts_search_index"].startswith("gist (to_tsvector('english'::regconfig")
    with scratch(db.url) as conn:
        add_user_and_post(conn)
        conn.execute("SET LOCAL enable_seqscan = off")
        query = "EXPLAIN SELECT * FROM posts WHERE metadata @> '{\"featured\": true}'"
        plan = " ".join(str(row[0]) for row in conn.execute(query).fetchall())
        assert "posts_metadata_index" in plan


def concurrent_index(db: PgSchema) -> None:
    assert db.index("posts_published_at_index").valid


def foreign_key_on_existing_column(db: PgSchema) -> None:
    assert db.constraint("posts", "posts_editor_id_fkey") == ConstraintInfo(
        "f", "FOREIGN KEY (editor_id) REFERENCES users(id) ON DELETE SET NULL NOT VALID", False
    )


def check_constraints(db: PgSchema) -> None:
    assert db.constraint("posts", "posts_title_not_blank").validated
    assert db.constraint("users", "users_email_has_at") == ConstraintInfo(
        "c",
        "CHECK ((POSITION(('@'::text) IN (email)) > 1)) NOT VALID",
        False,
        "Cheap sanity check; the application validates addresses",
    )
    with scratch(db.url) as conn:
        _, post = add_user_and_post(conn)
        refused(conn, f"UPDATE posts SET title = '  ' WHERE id = '{post}'", errors.CheckViolation)


def validate_constraints(db: PgSchema) -> None:
    assert db.constraint("posts", "posts_editor_id_fkey").validated
    assert db.constraint("users", "users_email_has_at").validated


def updated_at_trigger(db: PgSchema) -> None:
    assert set(db.triggers()) == {
        ("users", "users_set_updated_at"),
        ("posts", "posts_set_updated_at"),
    }
    with scratch(db.url) as conn:
        _, post = add_user_and_post(conn)
        conn.execute(f"UPDATE posts SET updated_at = '2000-01-01' WHERE id = '{post}'")  # type: ignore[arg-type]
        assert one(conn, f"SELECT updated_at > '2001-01-01' FROM posts WHERE id = '{post}'")


def comments(db: PgSchema) -> None:
    assert db.table("tags").comment == "Labels authors put on posts"
    assert db.columns("tags")["name"].comment == "Lower case, unique"
    assert db.table("posts").comment == "Blog posts, one row per article"
    assert db.columns("posts")["slug"].comment == "URL path segment, unique once published"


def enum_types(db: PgSchema) -> None:
    assert db.types()[("public", "post_status")] == TypeInfo(
        "e", ("draft", "published", "archived")
    )
    assert db.columns("posts")["status"] == Column("post_status", True, "'draft'::post_status")
    with scratch(db.url) as conn:
        _, post = add_user_and_post(conn)
        assert one(conn, f"SELECT status::text FROM posts WHERE id = '{post}'") == "draft"
        refused(conn, "SELECT 'gone'::post_status", errors.InvalidTextRepresentation)


def enum_add_value(db: PgSchema) -> None:
    assert db.enum_labels("post_status") == ["draft", "scheduled", "published", "archived"]


def soft_delete(db: PgSchema) -> None:
    indexes = db.indexes()
    assert ("public", "posts_slug_index") not in indexes
    assert indexes[("public", "posts_live_slug_index")].definition.endswith(
        "WHERE ((published_at IS NOT NULL) AND (deleted_at IS NULL))"
    )
    assert db.table("live_posts").kind == "v"
    with scratch(db.url) as conn:
        _, post = add_user_and_post(conn)
        conn.execute(  # type: ignore[arg-type]
            f"UPDATE posts SET slug = 'hi', published_at = now(), deleted_at = now() "
            f"WHERE id = '{post}'"
        )
        _, again = add_user_and_post(conn, "bob@example.com")
        # The deleted post does not hold on to its slug, and the view hides it.
        conn.execute(f"UPDATE posts SET slug = 'hi', published_at = now() WHERE id = '{again}'")  # type: ignore[arg-type]
        assert one(conn, "SELECT count(*) FROM live_posts") == 1


def polymorphic_comments(db: PgSchema) -> None:
    assert db.constraint("comments", "comments_exactly_one_parent").definition == (
        "CHECK ((num_nonnulls(post_id, photo_id) = 1))"
    )
    with scratch(db.url) as conn:
        _, post = add_user_and_post(conn)
        photo = one(
            conn,
            "INSERT INTO photos (url, inserted_at, updated_at) "
            "VALUES ('p.png', now(), now()) RETURNING id",
        )
        insert = "INSERT INTO comments (post_id, photo_id, body, inserted_at, updated_at) VALUES "
        conn.execute(insert + f"('{post}', NULL, 'nice', now(), now())")  # type: ignore[arg-type]
        refused(
            conn, insert + f"('{post}', '{photo}', 'both', now(), now())", errors.CheckViolation
        )
        refused(conn, insert + "(NULL, NULL, 'none', now(), now())", errors.CheckViolation)
        refused(
            conn,
            insert + "(gen_random_uuid(), NULL, 'no post', now(), now())",
            errors.ForeignKeyViolation,
        )


CHECKS: dict[str, Callable[[PgSchema], None]] = {
    "uuid_keys": uuid_keys,
    "alter_posts": alter_posts,
    "indexes": indexes,
    "concurrent_index": concurrent_index,
    "foreign_key_on_existing_column": foreign_key_on_existing_column,
    "check_constraints": check_constraints,
    "validate_constraints": validate_constraints,
    "updated_at_trigger": updated_at_trigger,
    "comments": comments,
    "enum_types": enum_types,
    "enum_add_value": enum_add_value,
    "soft_delete": soft_delete,
    "polymorphic_comments": polymorphic_comments,
}


def test_every_pattern_has_a_check() -> None:
    assert sorted(CHECKS) == sorted(f.stem.split("_", 1)[1] for f in FILES)


# Rolling these back runs nothing on purpose: a validated constraint stays validated.
NOTHING_TO_UNDO = {"validate_constraints"}


def as_validated(snapshot: dict[str, Any], keys: set[Any]) -> dict[str, Any]:
    """``snapshot`` with the constraints in ``keys`` validated, as a no-op rollback leaves them."""
    constraints = dict(snapshot["constraints"])
    for key in keys & set(constraints):
        c = constraints[key]
        constraints[key] = replace(
            c, definition=c.definition.removesuffix(" NOT VALID"), validated=True
        )
    return {**snapshot, "constraints": constraints}


def test_the_patterns_run_up_and_down(tmp_path: Path, pg_url: str) -> None:
    db = PgSchema(pg_url)
    snapshots: list[tuple[dict[str, Any], dict[str, Any]]] = []
    files = discover(PATTERNS)
    with make_migrator(tmp_path, pg_url, migrations_path=str(PATTERNS)) as m:
        for file in files:
            before = db.snapshot()
            assert m.run("up", step=1) == [file.version]
            after = db.snapshot()
            assert after != before, f"{file.label} changed nothing"
            snapshots.append((before, after))
            CHECKS[file.name](db)
        still_validated: set[Any] = set()
        for file in reversed(files):
            before, after = snapshots.pop()
            assert m.run("down", step=1) == [file.version]
            if file.name in NOTHING_TO_UNDO:
                changed = {
                    k for k, c in after["constraints"].items() if before["constraints"].get(k) != c
                }
                assert changed, f"{file.label} validated nothing"
                still_validated |= changed
            assert_same_schema(db.snapshot(), as_validated(before, still_validated))
        assert {s.status for s in m.status()} == {"down"}
