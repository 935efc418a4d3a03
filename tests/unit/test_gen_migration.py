"""`gen migration`: names, versions, templates and refusals (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from whimbrel.errors import UsageError
from whimbrel.generators import TEMPLATES, generate_migration, render_migration
from whimbrel.generators.migration import Words
from whimbrel.generators.naming import (
    check_version,
    new_version,
    pluralize,
    snake_case,
    table_name,
    timestamp,
)

NOON = datetime(2026, 3, 4, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "snake"),
    [("AddPosts", "add_posts"), ("add-posts", "add_posts"), ("  add posts ", "add_posts")],
)
def test_names_become_snake_case(given: str, snake: str) -> None:
    assert snake_case(given) == snake


@pytest.mark.parametrize("bad", ["", "123", "--", "1_posts"])
def test_unusable_names_are_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="must start with a letter"):
        snake_case(bad)


def test_version_is_utc_time() -> None:
    assert timestamp(NOON) == "20260304120000"


def test_new_version_skips_a_second_another_migration_has(tmp_path: Path) -> None:
    (tmp_path / "20260304120000_a.py").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "20260304120001_b.sql").write_text("")
    assert new_version(tmp_path, NOON) == "20260304120002"
    assert new_version(tmp_path / "missing", NOON) == "20260304120000"


@pytest.mark.parametrize("bad", ["2026", "00000000000000", "2026010100000x"])
def test_pinned_versions_must_be_fourteen_digits_above_zero(bad: str) -> None:
    with pytest.raises(UsageError, match="14 digits"):
        check_version(bad)


@pytest.mark.parametrize(
    ("word", "plural"),
    [
        ("post", "posts"),
        ("category", "categories"),
        ("day", "days"),
        ("box", "boxes"),
        ("address", "addresses"),
        ("person", "people"),
        ("line_item", "line_items"),
        ("created_by", "created_by"),  # a role, not a noun: never "created_bies"
        ("baby", "babies"),
    ],
)
def test_pluralize(word: str, plural: str) -> None:
    assert pluralize(word) == plural


@pytest.mark.parametrize("bad", ["Outbox", "outbox messages", "1outbox", "x" * 64, "a;drop"])
def test_table_names_must_be_plain_lowercase_identifiers(bad: str) -> None:
    with pytest.raises(UsageError, match="not a plain identifier"):
        table_name(bad)


@pytest.mark.parametrize(
    ("name", "subject", "target"),
    [
        ("create_posts", "posts", None),
        ("create_posts_table", "posts", None),
        ("add_summary_to_posts", "summary", "posts"),
        ("add_title_and_slug_index_to_posts", "title_and_slug", "posts"),
        ("add_updated_at_trigger_on_posts", "updated_at", "posts"),
        ("create_post_status_enum", "post_status", None),
        ("add_index", "", None),
    ],
)
def test_words_of_a_name(name: str, subject: str, target: str | None) -> None:
    assert Words.of(name) == Words(subject, target)


def test_every_template_is_offered() -> None:
    assert set(TEMPLATES) == {
        "blank", "create_table", "alter_table", "add_column", "add_index",
        "add_foreign_key", "add_trigger", "create_enum", "hypertable",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "template", "expected"),
    [
        ("create_posts", "create_table", 'with create(table("posts")):'),
        ("alter_posts", "alter_table", 'with alter(table("posts")):'),
        ("add_summary_to_posts", "add_column", 'add("summary", "string")'),
        ("add_title_and_slug_index_to_posts", "add_index", 'index("posts", ["title", "slug"])'),
        ("add_author_id_to_posts", "add_foreign_key", 'references("authors", on_delete='),
        ("add_author_to_posts", "add_foreign_key", 'add("author_id", references("authors"'),
        ("add_updated_at_trigger_to_posts", "add_trigger", 'ON "posts"'),
        ("create_post_status", "create_enum", 'add("status", "post_status"'),
        ("create_mood_enum_on_users", "create_enum", 'with alter(table("users")):'),
    ],
)
def test_placeholders_come_from_the_name(name: str, template: str, expected: str) -> None:
    assert expected in render_migration(name, template)


def test_trigger_template_is_plpgsql_with_up_and_down() -> None:
    source = render_migration("add_updated_at_trigger_to_posts", "add_trigger")
    assert "LANGUAGE plpgsql" in source
    assert 'DROP FUNCTION "posts_set_updated_at"()' in source
    assert 'DROP TRIGGER "posts_set_updated_at" ON "posts"' in source


def test_enum_template_uses_the_dsl_not_raw_sql() -> None:
    source = render_migration("create_post_status", "create_enum")
    assert 'create(enum("post_status", ["pending", "active", "archived"]))' in source
    assert "execute(" not in source and "CREATE TYPE" not in source


def test_foreign_key_to_a_role_column_references_users_with_a_note() -> None:
    source = render_migration("add_created_by_id_to_invoices", "add_foreign_key")
    assert 'add("created_by_id", references("users", on_delete="nothing"))' in source
    assert "bies" not in source
    assert "# CHECK: created_by_id names a role" in source
    plain = render_migration("add_author_id_to_posts", "add_foreign_key")
    assert "CHECK" not in plain  # a noun needs no note


def test_unknown_template_suggests_the_closest(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"did you mean 'create_table'\?"):
        generate_migration(tmp_path / "migrations", "x", template="create_tabel")


def test_unknown_template_lists_the_templates(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        generate_migration(tmp_path / "migrations", "create_posts", template="create_tabel")
    assert info.value.exit_code == 2
    assert "unknown template 'create_tabel'" in str(info.value)
    for template in TEMPLATES:
        assert template in str(info.value)
    assert not (tmp_path / "migrations").exists()


def test_generate_creates_the_folder_and_writes_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "db" / "migrations"
    result = generate_migration(
        folder, "CreatePosts", template="create_table", version="20260101000000"
    )
    assert result.path == folder / "20260101000000_create_posts.py"
    assert (
        result.path.read_text() == result.source == render_migration("create_posts", "create_table")
    )


@pytest.mark.parametrize("existing", ["20250101000000_create_posts.py", "sub/1_create_posts.sql"])
def test_an_existing_name_is_refused(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / existing).write_text("")
    with pytest.raises(UsageError, match="a migration named 'create_posts' already exists"):
        generate_migration(tmp_path, "create_posts")
    assert sorted(p.name for p in tmp_path.rglob("*.*")) == [Path(existing).name]


def test_a_name_that_only_ends_the_same_is_not_a_clash(tmp_path: Path) -> None:
    (tmp_path / "20250101000000_recreate_posts.py").write_text("")
    assert generate_migration(tmp_path, "create_posts").path.exists()
