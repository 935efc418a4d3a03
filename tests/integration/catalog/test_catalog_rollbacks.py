"""Rollbacks that once failed on MySQL/MariaDB (issue 9), on every database.

InnoDB needs an index for every foreign key: it makes one when the key is
added and silently drops it once a user index covers the key, after which
``DROP INDEX`` of that user index is error 1553. The README quick start,
``examples/blog``, the ``add_foreign_key`` template and ``gen domain`` output
all create a foreign key and then an index on it; each runs up, down and up
again here, through the real CLI, and the catalog after the second up is the
one after the first.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from catalog_harness import RoundTrip
from migration_helpers import run_cli, write_change

from golden.cases import GOLDEN
from whimbrel.inspect import Catalog, diff

REPO = Path(__file__).resolve().parents[3]

QUICK_START = """
with create(table("users")):
    add("email", "string", null=False)
    timestamps()
with create(table("posts")):
    add("title", "string", null=False)
    add("author_id", references("users", on_delete="delete_all"))
    timestamps()
create(index("posts", ["author_id"]))
"""


def _ok(done: object) -> str:
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    return done.stdout  # type: ignore[attr-defined]


def up_down_up(rt: RoundTrip) -> Catalog:
    """``migrate``, ``rollback --all``, ``migrate`` with the CLI; returns the catalog after up."""
    empty = rt.catalog()
    _ok(run_cli(rt.project, rt.url, "migrate"))
    applied = rt.catalog()
    assert diff(empty, applied), "migrate changed nothing"
    _ok(run_cli(rt.project, rt.url, "rollback", "--all"))
    assert diff(empty, rt.catalog()) == [], "rolling back did not restore the catalog"
    _ok(run_cli(rt.project, rt.url, "migrate"))
    assert diff(applied, rt.catalog()) == [], "migrating again made another schema"
    return applied


def test_readme_quick_start_goes_down_and_up_again(rt: RoundTrip) -> None:
    write_change(rt.project, 20261122093000, "create_posts", QUICK_START)
    applied = up_down_up(rt)
    names = {i.name for i in applied.table("posts").indexes}
    assert "posts_author_id_index" in names


def test_examples_blog_goes_down_and_up_again(rt: RoundTrip) -> None:
    folder = rt.project / "migrations"
    folder.mkdir()
    for path in sorted((REPO / "examples" / "blog" / "migrations").iterdir()):
        # The third migration's partial index is refused on MySQL, before anything runs.
        if rt.backend == "mysql" and "add_deleted_at" in path.name:
            continue
        shutil.copy(path, folder / path.name)
    applied = up_down_up(rt)
    assert "posts_recent_index" in {i.name for i in applied.table("posts").indexes}


def test_add_foreign_key_template_goes_down_and_up_again(rt: RoundTrip) -> None:
    write_change(
        rt.project,
        20260101000000,
        "create_tables",
        """
        create(table("users"))
        create(table("invoices"))
        """,
    )
    _ok(
        run_cli(
            rt.project,
            rt.url,
            "gen",
            "migration",
            "add_user_id_to_invoices",
            "-t",
            "add_foreign_key",
        )
    )
    generated = "".join(p.read_text() for p in (rt.project / "migrations").glob("*_add_user_*"))
    assert 'references("users"' in generated and 'index("invoices", ["user_id"])' in generated
    up_down_up(rt)


def test_gen_domain_output_goes_down_and_up_again(rt: RoundTrip) -> None:
    path = Path(
        _ok(run_cli(rt.project, rt.url, "gen", "domain", str(GOLDEN / "domain" / "library.toml")))
        .strip()
        .splitlines()[-1]
    )
    if rt.backend != "postgres":
        # gen domain writes PostgreSQL's gen_random_uuid() defaults; the keys and indexes
        # under test are the same without them.
        source = path.read_text()
        path.write_text(re.sub(r', default=fragment\("gen_random_uuid\(\)"\)', "", source))
    applied = up_down_up(rt)
    assert applied.table("books").foreign_keys


def test_index_on_a_key_made_in_the_same_change_rolls_back(rt: RoundTrip) -> None:
    rt.setup('create(table("users"))')
    rt.run(
        """
        with create(table("posts")):
            add("author_id", references("users"))
        create(index("posts", ["author_id", "id"]))
        create(unique_index("posts", ["author_id"], name="one_post_each"))
        """,
        check=lambda db: (
            {"posts_author_id_id_index", "one_post_each"}
            <= {i.name for i in db.table("posts").indexes}
        ),
    )


def test_remove_a_foreign_key_column(rt: RoundTrip) -> None:
    # docs/databases.md: remove(col) of a foreign-key column works (MySQL drops the key first).
    rt.setup(
        """
        create(table("users"))
        with create(table("posts")):
            add("author_id", references("users"))
        """
    )
    rt.run(
        up="""
        with alter(table("posts")):
            remove("author_id")
        """,
        down="""
        with alter(table("posts")):
            add("author_id", references("users"))
        """,
        check=lambda db: db.table("posts").foreign_keys == (),
    )


def test_remove_a_foreign_key_column_with_a_plain_type_is_refused_in_change(
    rt: RoundTrip,
) -> None:
    # Rolling back would re-add a bare bigint: the key would be lost for good.
    rt.setup(
        """
        create(table("users"))
        with create(table("posts")):
            add("author_id", references("users"))
        """
    )
    message = rt.refused_when_run(
        """
        with alter(table("posts")):
            remove("author_id", "bigint")
        """,
        says="foreign key",
    )
    assert "write up() and down()" in message
    rt.run(
        """
        with alter(table("posts")):
            remove("author_id", references("users"))
        """,
        changes=rt.pick(
            mysql=[
                'table "posts": - column "author_id"',
                'table "posts": - foreign key "posts_author_id_fkey"',
                'table "posts": - index "posts_author_id_fkey"',
            ],
            default=[
                'table "posts": - column "author_id"',
                'table "posts": - foreign key "posts_author_id_fkey"',
            ],
        ),
    )
