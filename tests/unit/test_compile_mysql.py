"""MySQL / MariaDB compiler: migration code → exact SQL, and refusals before anything runs.

No server here: the integration suite runs the same migrations on MariaDB.
The dialect is built for a flavour (``mysql``, ``mariadb``) or for neither,
which accepts only what both servers accept.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial as call
from typing import Any

import pytest
from compile_helpers import Migration, altering, compile_with, creating

from whimbrel.adapters.mysql import MySQLAdapter
from whimbrel.config import seconds as _seconds
from whimbrel.dialects.mysql import MySQLDialect
from whimbrel.dialects.sqlsplit import split_mysql
from whimbrel.errors import ConfigError, UnsupportedFeatureError
from whimbrel.migration import (
    add,
    add_if_not_exists,
    array,
    asc_nulls_first,
    constraint,
    create,
    create_if_not_exists,
    desc,
    drop,
    drop_if_exists,
    enum,
    execute,
    fragment,
    index,
    modify,
    references,
    remove,
    remove_if_exists,
    rename,
    table,
    timestamps,
    unique_index,
    validate_constraint,
)


def compile_mysql(migration: Migration, flavor: str | None = None) -> list[str]:
    """The statements as ``--dry-run`` prints them (a catalog step as its preview)."""
    return [str(s) for s in compile_with(MySQLDialect(flavor=flavor), migration)]


KEY = "`id` bigint unsigned not null auto_increment"

# --- create table ----------------------------------------------------------------------------

CREATE_TABLE: list[Any] = [
    pytest.param(
        lambda: create(table("things")),
        [f"CREATE TABLE `things` ({KEY}, PRIMARY KEY (`id`)) ENGINE = InnoDB"],
        id="default-key",
    ),
    pytest.param(
        creating(
            table("posts", comment="it's", engine="MyISAM", options="DEFAULT CHARSET=utf8mb4"),
            call(add, "title", "string", null=False, comment="shown"),
        ),
        [
            f"CREATE TABLE `posts` ({KEY}, `title` varchar(255) NOT NULL COMMENT 'shown', "
            "PRIMARY KEY (`id`)) COMMENT = 'it''s' ENGINE = MyISAM DEFAULT CHARSET=utf8mb4"
        ],
        id="comments-engine-options",
    ),
    pytest.param(
        creating(
            table("comments"),
            call(add, "post_id", references("posts", on_delete="delete_all"), null=False),
            call(add, "by_id", references("users", type="binary_id", on_update="update_all")),
        ),
        [
            f"CREATE TABLE `comments` ({KEY}, `post_id` bigint unsigned NOT NULL, "
            "`by_id` binary(16), PRIMARY KEY (`id`), CONSTRAINT `comments_post_id_fkey` "
            "FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`) ON DELETE CASCADE, "
            "CONSTRAINT `comments_by_id_fkey` FOREIGN KEY (`by_id`) REFERENCES `users` (`id`) "
            "ON UPDATE CASCADE) ENGINE = InnoDB"
        ],
        id="references-are-table-level",
    ),
    pytest.param(
        creating(
            table("m", primary_key=False),
            call(add, "a", "bigint", primary_key=True),
            call(add, "b", references("o", column="x", with_={"a": "y"})),
        ),
        [
            "CREATE TABLE `m` (`a` bigint, `b` bigint unsigned, PRIMARY KEY (`a`), "
            "CONSTRAINT `m_b_fkey` FOREIGN KEY (`b`, `a`) REFERENCES `o` (`x`, `y`)) "
            "ENGINE = InnoDB"
        ],
        id="composite-reference",
    ),
    pytest.param(
        creating(table("c"), timestamps),
        [
            f"CREATE TABLE `c` ({KEY}, `inserted_at` datetime NOT NULL, "
            "`updated_at` datetime NOT NULL, PRIMARY KEY (`id`)) ENGINE = InnoDB"
        ],
        id="timestamps",
    ),
    pytest.param(
        lambda: create(table("n", primary_key={"type": "identity", "start_value": 100})),
        [
            "CREATE TABLE `n` (`id` bigint unsigned not null auto_increment, PRIMARY KEY (`id`)) "
            "ENGINE = InnoDB AUTO_INCREMENT = 100"
        ],
        id="identity-start-value",
    ),
    pytest.param(
        lambda: create_if_not_exists(table("posts", prefix="blog")),
        [f"CREATE TABLE IF NOT EXISTS `blog`.`posts` ({KEY}, PRIMARY KEY (`id`)) ENGINE = InnoDB"],
        id="prefix-is-a-database",
    ),
]


@pytest.mark.parametrize(("migration", "expected"), CREATE_TABLE)
def test_create_table(migration: Migration, expected: list[str]) -> None:
    assert compile_mysql(migration) == expected


TYPES: list[Any] = [
    ("id", {}, "integer"),
    ("integer", {}, "integer"),
    ("bigint", {}, "bigint"),
    ("serial", {}, "bigint unsigned not null auto_increment"),
    ("binary_id", {}, "binary(16)"),
    ("uuid", {}, "binary(16)"),
    ("string", {}, "varchar(255)"),
    ("string", {"size": 40}, "varchar(40)"),
    ("text", {}, "text"),
    ("boolean", {}, "boolean"),
    ("float", {}, "double"),
    ("decimal", {"precision": 10, "scale": 2}, "decimal(10,2)"),
    ("decimal", {"precision": 10}, "decimal(10,0)"),
    ("binary", {}, "blob"),
    ("binary", {"size": 16}, "varbinary(16)"),
    ("map", {}, "json"),
    ("date", {}, "date"),
    ("time", {}, "time"),
    ("time_usec", {}, "time(6)"),
    ("utc_datetime", {}, "datetime"),
    ("utc_datetime_usec", {}, "datetime(6)"),
    ("naive_datetime_usec", {"precision": 3}, "datetime(3)"),
    ("char(36)", {}, "char(36)"),
    ("string", {"default": "it's a \\ path"}, "varchar(255) DEFAULT 'it''s a \\\\ path'"),
    ("integer", {"default": 0, "null": False}, "integer DEFAULT 0 NOT NULL"),
    ("boolean", {"default": True}, "boolean DEFAULT true"),
    ("decimal", {"default": Decimal("1.10")}, "decimal DEFAULT 1.10"),
    ("text", {"default": "x"}, "text DEFAULT ('x')"),
    ("map", {"default": {"k": 1}}, "json DEFAULT ('{\"k\":1}')"),
    ("map", {"default": [1, 2]}, "json DEFAULT ('[1,2]')"),
    ("text", {"default": None}, "text DEFAULT NULL"),
    (
        "utc_datetime",
        {"default": fragment("CURRENT_TIMESTAMP")},
        "datetime DEFAULT CURRENT_TIMESTAMP",
    ),
    ("string", {"collation": "utf8mb4_bin"}, "varchar(255) COLLATE `utf8mb4_bin`"),
    (
        "integer",
        {"generated": "ALWAYS AS (1 + 1) STORED"},
        "integer GENERATED ALWAYS AS (1 + 1) STORED",
    ),
]


@pytest.mark.parametrize(("type_", "opts", "definition"), TYPES, ids=str)
def test_column_types_and_defaults(type_: Any, opts: dict[str, Any], definition: str) -> None:
    migration = creating(table("t", primary_key=False), call(add, "c", type_, **opts))
    assert compile_mysql(migration) == [f"CREATE TABLE `t` (`c` {definition}) ENGINE = InnoDB"]


# --- alter, indexes, constraints, renames --------------------------------------------------

ACCEPTED: list[Any] = [
    pytest.param(
        altering(
            table("posts"),
            call(add, "views", "integer", default=0, after="title"),
            call(modify, "title", "text", null=False),
            call(remove, "body"),
        ),
        [
            '-- before dropping column "posts"."body": drop its foreign keys first',
            "ALTER TABLE `posts` ADD COLUMN `views` integer DEFAULT 0 AFTER `title`, "
            "MODIFY `title` text NOT NULL, DROP COLUMN `body`",
        ],
        id="one-alter-many-actions",
    ),
    pytest.param(
        altering(table("posts"), call(add, "author_id", references("users"))),
        [
            "ALTER TABLE `posts` ADD COLUMN `author_id` bigint unsigned, ADD CONSTRAINT "
            "`posts_author_id_fkey` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`)"
        ],
        id="add-reference",
    ),
    pytest.param(
        altering(
            table("posts"),
            call(modify, "author_id", references("people"), from_=references("users")),
        ),
        [
            "ALTER TABLE `posts` DROP FOREIGN KEY `posts_author_id_fkey`",
            "-- then ALTER TABLE `posts` DROP INDEX `posts_author_id_fkey`, if InnoDB made that "
            "index for the foreign key",
            "ALTER TABLE `posts` MODIFY `author_id` bigint unsigned, ADD CONSTRAINT "
            "`posts_author_id_fkey` FOREIGN KEY (`author_id`) REFERENCES `people` (`id`)",
        ],
        id="modify-reference-drops-the-old-key-first",
    ),
    pytest.param(
        altering(table("posts"), call(remove, "author_id", references("users"))),
        [
            '-- before dropping column "posts"."author_id": drop its foreign keys first',
            "ALTER TABLE `posts` DROP FOREIGN KEY `posts_author_id_fkey`, DROP COLUMN `author_id`",
        ],
        id="remove-reference",
    ),
    pytest.param(
        altering(table("posts", comment="new"), call(add, "code", "string", primary_key=True)),
        [
            "ALTER TABLE `posts` ADD COLUMN `code` varchar(255), ADD PRIMARY KEY (`code`)",
            "ALTER TABLE `posts` COMMENT = 'new'",
        ],
        id="primary-key-and-table-comment",
    ),
    pytest.param(
        lambda: create(unique_index("posts", ["title", desc("inserted_at")], using="btree")),
        [
            "CREATE UNIQUE INDEX `posts_title_inserted_at_index` ON `posts` "
            "(`title`, `inserted_at` DESC) USING BTREE"
        ],
        id="unique-desc-using",
    ),
    pytest.param(
        lambda: create(index("posts", ["body(100)"], comment="prefix", concurrently=True)),
        ["CREATE INDEX `posts_body_100_index` ON `posts` (`body`(100)) COMMENT 'prefix' LOCK=NONE"],
        id="prefix-length-comment-concurrently",
    ),
    pytest.param(
        lambda: create(unique_index("posts", ["title"], nulls_distinct=True)),
        ["CREATE UNIQUE INDEX `posts_title_index` ON `posts` (`title`)"],
        id="nulls-distinct-is-what-mysql-does",
    ),
    pytest.param(
        lambda: drop(index("posts", name="old")), ["DROP INDEX `old` ON `posts`"], id="drop-index"
    ),
    pytest.param(
        lambda: drop(index("posts", name="old", concurrently=True)),
        ["ALTER TABLE `posts` DROP INDEX `old`, LOCK=NONE"],
        id="drop-index-concurrently",
    ),
    pytest.param(
        lambda: rename(index("posts", name="old"), to="new"),
        ["ALTER TABLE `posts` RENAME INDEX `old` TO `new`"],
        id="rename-index",
    ),
    pytest.param(
        lambda: rename(table("posts"), to=table("articles")),
        ["RENAME TABLE `posts` TO `articles`"],
        id="rename-table",
    ),
    pytest.param(
        lambda: rename(table("posts"), "title", to="subject"),
        ["ALTER TABLE `posts` RENAME COLUMN `title` TO `subject`"],
        id="rename-column",
    ),
    pytest.param(
        lambda: create(constraint("posts", "views_positive", check="views >= 0")),
        ["ALTER TABLE `posts` ADD CONSTRAINT `views_positive` CHECK (views >= 0)"],
        id="check-constraint",
    ),
    pytest.param(
        lambda: drop(constraint("posts", "views_positive")),
        ["ALTER TABLE `posts` DROP CONSTRAINT `views_positive`"],
        id="drop-constraint",
    ),
    pytest.param(
        lambda: drop_if_exists(table("gone")), ["DROP TABLE IF EXISTS `gone`"], id="drop-table"
    ),
    pytest.param(
        lambda: execute("INSERT INTO t VALUES ('a;b'); UPDATE t SET c = ';' -- done;\n"),
        ["INSERT INTO t VALUES ('a;b')", "UPDATE t SET c = ';' -- done;"],
        id="execute-split",
    ),
]


@pytest.mark.parametrize(("migration", "expected"), ACCEPTED)
def test_accepted_commands(migration: Migration, expected: list[str]) -> None:
    assert compile_mysql(migration) == expected


# --- the two flavours ---------------------------------------------------------------------

IF_EXISTS_FORMS: list[Any] = [
    pytest.param(
        lambda: create_if_not_exists(index("posts", ["title"])),
        "CREATE INDEX IF NOT EXISTS `posts_title_index` ON `posts` (`title`)",
        id="create-index",
    ),
    pytest.param(
        lambda: drop_if_exists(index("posts", name="old")),
        "DROP INDEX IF EXISTS `old` ON `posts`",
        id="drop-index",
    ),
    pytest.param(
        lambda: drop_if_exists(constraint("posts", "c")),
        "ALTER TABLE `posts` DROP CONSTRAINT IF EXISTS `c`",
        id="drop-constraint",
    ),
    pytest.param(
        altering(table("posts"), call(add_if_not_exists, "a", references("users"))),
        "ALTER TABLE `posts` ADD COLUMN IF NOT EXISTS `a` bigint unsigned, ADD CONSTRAINT "
        "`posts_a_fkey` FOREIGN KEY IF NOT EXISTS (`a`) REFERENCES `users` (`id`)",
        id="add-column",
    ),
    pytest.param(
        altering(table("posts"), call(remove_if_exists, "a", references("users"))),
        "ALTER TABLE `posts` DROP FOREIGN KEY IF EXISTS `posts_a_fkey`, DROP COLUMN IF EXISTS `a`",
        id="remove-column",
    ),
]


@pytest.mark.parametrize(("migration", "mariadb_sql"), IF_EXISTS_FORMS)
def test_if_exists_forms_are_mariadb_only(migration: Migration, mariadb_sql: str) -> None:
    assert compile_mysql(migration, "mariadb")[-1] == mariadb_sql
    for flavor, label in (("mysql", "MySQL"), (None, "MySQL/MariaDB")):
        with pytest.raises(UnsupportedFeatureError) as err:
            compile_mysql(migration, flavor)
        assert str(err.value).startswith(f"{label} does not support ")
        assert "only MariaDB has this IF [NOT] EXISTS form" in str(err.value)
        assert "in a migration that runs once" in str(err.value)


def test_expression_index_columns_are_mysql_only() -> None:
    migration = lambda: create(index("users", ["lower(email)"]))  # noqa: E731
    assert compile_mysql(migration, "mysql") == [
        "CREATE INDEX `users_lower_email_index` ON `users` ((lower(email)))"
    ]
    with pytest.raises(UnsupportedFeatureError, match="MariaDB does not support the expression"):
        compile_mysql(migration, "mariadb")


# --- refused everywhere ---------------------------------------------------------------------

UNSUPPORTED: list[Any] = [
    pytest.param(
        lambda: create(index("posts", ["title"], where="deleted_at IS NULL")),
        ["where= (partial indexes)", "generated column"],
        id="partial-index",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"], using="gin")),
        ["using='gin'", '"btree" or leave using= out', "FULLTEXT"],
        id="index-using",
    ),
    pytest.param(
        lambda: create(index("posts", ["title"], include=["body"])),
        ["include=", "add the columns"],
        id="index-include",
    ),
    pytest.param(lambda: create(index("posts", ["title"], only=True)), ["only="], id="index-only"),
    pytest.param(
        lambda: create(unique_index("posts", ["title"], nulls_distinct=False)),
        ["nulls_distinct=False"],
        id="nulls-not-distinct",
    ),
    pytest.param(
        lambda: create(index("posts", [asc_nulls_first("title")])),
        ["NULLS FIRST", "asc() or desc()"],
        id="nulls-first",
    ),
    pytest.param(
        lambda: drop(index("posts", name="i"), mode="cascade"),
        ['mode="cascade"', "drop the index alone"],
        id="drop-index-cascade",
    ),
    pytest.param(
        lambda: drop(table("posts"), mode="cascade"),
        ["accepts CASCADE and ignores it", "drop the tables that reference it first"],
        id="drop-table-cascade",
    ),
    pytest.param(
        lambda: drop(constraint("posts", "c"), mode="cascade"),
        ['mode="cascade"'],
        id="drop-constraint-cascade",
    ),
    pytest.param(
        lambda: create(constraint("posts", "c", exclude="gist (x WITH &&)")),
        ["exclusion constraints", "unique index or a trigger"],
        id="exclusion",
    ),
    pytest.param(
        lambda: create(constraint("posts", "c", check="x > 0", validate=False)),
        ["validate=False", "no NOT VALID"],
        id="check-not-valid",
    ),
    pytest.param(
        altering(table("posts"), call(add, "a", references("users", validate=False))),
        ["validate=False", "no NOT VALID"],
        id="reference-not-valid",
    ),
    pytest.param(
        altering(table("posts"), call(add, "a", references("users", match="full"))),
        ["match=", "InnoDB ignores MATCH"],
        id="reference-match",
    ),
    pytest.param(
        altering(table("posts"), call(add, "a", references("users", on_delete="default_all"))),
        ["on_delete='default_all'", '"nilify_all"'],
        id="on-delete-set-default",
    ),
    pytest.param(
        lambda: validate_constraint("posts", "c"),
        ['validate_constraint("posts", "c")', "leave validate_constraint() out"],
        id="validate-constraint",
    ),
    pytest.param(
        lambda: create(enum("mood", ["happy", "sad"])),
        ["enum types", "enum('happy','sad')"],
        id="enum",
    ),
    pytest.param(
        creating(table("t"), call(add, "tags", array("text"))),
        ["array columns", '"map"'],
        id="array",
    ),
    pytest.param(
        creating(table("t", primary_key={"type": "identity", "increment": 2})),
        ["increment=", "auto_increment_increment"],
        id="identity-increment",
    ),
]


@pytest.mark.parametrize(("migration", "message_parts"), UNSUPPORTED)
def test_unsupported_commands_are_refused_with_the_alternative(
    migration: Migration, message_parts: list[str]
) -> None:
    for flavor in ("mysql", "mariadb"):
        with pytest.raises(UnsupportedFeatureError) as err:
            compile_mysql(migration, flavor)
        message = str(err.value)
        assert " does not support " in message
        for part in message_parts:
            assert part in message


def test_split_mysql_knows_backslash_escapes_and_hash_comments() -> None:
    script = "INSERT INTO t VALUES ('it\\'s; fine');\n# a comment; here\nSELECT 1;\n-- end;\n"
    assert split_mysql(script) == [
        "INSERT INTO t VALUES ('it\\'s; fine')",
        "# a comment; here\nSELECT 1",
    ]
    assert split_mysql("SELECT 1") == ["SELECT 1"]


def test_unknown_flavor_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="flavor"):
        MySQLDialect(flavor="oracle")


# --- the adapter's pure parts: settings and the URL ------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("500", 0.5), ("500ms", 0.5), ("5s", 5), ("1.5 s", 1.5), ("2min", 120), ("1h", 3600)],
)
def test_timeouts_read_postgresql_style_durations(value: str, seconds: float) -> None:
    assert _seconds(value, "lock_timeout") == seconds


def test_a_bad_timeout_or_a_url_without_database_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match='"500ms", "5s"'):
        _seconds("soon", "statement_timeout")
    with pytest.raises(ConfigError, match="names no database"):
        MySQLAdapter("mysql://root@127.0.0.1:3306/")._params()
    params = MySQLAdapter("mariadb://u:p%40ss@db:3307/app?unix_socket=/s")._params()
    assert (params["user"], params["password"], params["port"]) == ("u", "p@ss", 3307)
    assert (params["database"], params["unix_socket"]) == ("app", "/s")
