"""Each lint rule: a migration that triggers it, and its safe rewrite that does not.

Every case runs after ``SETUP`` (migration 1) created ``users``, ``posts`` and
``tags``, so the tables exist before the migration under test. Each rule is
tested on DSL commands and on raw SQL (``execute`` or a ``.sql`` file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from lint_helpers import lint_after_setup, rules_of
from whimbrel.lint import all_rules

PY = "from whimbrel.migration import *\n\n"


def py(body: str, flags: str = "") -> str:
    """A migration whose change() holds ``body`` (one statement a line)."""
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return PY + flags + "def change():\n" + lines + "\n"


def up(body: str, flags: str = "") -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return PY + flags + "def up():\n" + lines + "\n\ndef down():\n    pass\n"


NO_TX = "disable_ddl_transaction = True\n\n"


@dataclass(frozen=True)
class Case:
    id: str
    rule: str
    unsafe: tuple[str, ...]
    safe: tuple[str, ...]
    database: str = "postgresql"
    server_version: str | None = None


CASES = [
    # -- require-concurrent-index
    Case(
        "index-dsl",
        "require-concurrent-index",
        (py('create(index("posts", ["title"]))'),),
        (py('create(index("posts", ["title"], concurrently=True))', NO_TX),),
    ),
    Case(
        "index-on-new-table-is-fine",
        "require-concurrent-index",
        (py('create(unique_index("users", ["email"]))'),),
        (
            py(
                'with create(table("comments")):\n'
                '    add("body", "text")\n'
                'create(index("comments", ["body"]))'
            ),
        ),
    ),
    Case(
        "index-sql",
        "require-concurrent-index",
        (py('execute("CREATE INDEX posts_t ON posts (title)")'),),
        (
            "-- whimbrel:up transaction:false\n"
            "CREATE INDEX CONCURRENTLY posts_t ON posts (title);\n",
        ),
    ),
    # -- concurrently-in-transaction
    Case(
        "concurrently-dsl",
        "concurrently-in-transaction",
        (py('create(index("posts", ["title"], concurrently=True))'),),
        (py('create(index("posts", ["title"], concurrently=True))', NO_TX),),
    ),
    Case(
        "concurrently-sql",
        "concurrently-in-transaction",
        (
            "-- whimbrel:up\nDROP INDEX CONCURRENTLY posts_t;\n",
            py('execute("REINDEX INDEX CONCURRENTLY posts_t")'),
        ),
        ("-- whimbrel:up transaction:false\nDROP INDEX CONCURRENTLY posts_t;\n",),
    ),
    # -- constraint-missing-not-valid
    Case(
        "check-dsl",
        "constraint-missing-not-valid",
        (py('create(constraint("posts", "views_positive", check="views >= 0"))'),),
        (
            py('create(constraint("posts", "views_positive", check="views >= 0", validate=False))'),
            py('validate_constraint("posts", "views_positive")'),
        ),
    ),
    Case(
        "fk-dsl",
        "constraint-missing-not-valid",
        (py('with alter(table("posts")):\n    modify("author_id", references("users"))'),),
        (
            py(
                'with alter(table("posts")):\n'
                '    add("editor_id", references("users", validate=False))'
            ),
            py('validate_constraint("posts", "posts_editor_id_fkey")'),
        ),
    ),
    Case(
        "validated-in-the-same-migration",
        "constraint-missing-not-valid",
        (
            py(
                'create(constraint("posts", "c", check="views >= 0", validate=False))\n'
                'validate_constraint("posts", "c")'
            ),
        ),
        (
            py(
                'create(constraint("posts", "c", check="views >= 0", validate=False))\n'
                'validate_constraint("posts", "c")',
                NO_TX,
            ),
        ),
    ),
    Case(
        "fk-sql",
        "constraint-missing-not-valid",
        (
            "-- whimbrel:up\nALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (author_id) "
            "REFERENCES users (id);\n",
        ),
        (
            "-- whimbrel:up\nALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (author_id) "
            "REFERENCES users (id) NOT VALID;\n",
            "-- whimbrel:up\nALTER TABLE posts VALIDATE CONSTRAINT fk;\n",
        ),
    ),
    # -- setting-not-null
    Case(
        "not-null-dsl",
        "setting-not-null",
        (py('with alter(table("posts")):\n    modify("title", "string", null=False)'),),
        (
            py(
                'create(constraint("posts", "title_nn", check="title IS NOT NULL", validate=False))'
            ),
            py('validate_constraint("posts", "title_nn")'),
            py(
                'with alter(table("posts")):\n    modify("title", "string", null=False)\n'
                'drop(constraint("posts", "title_nn"))'
            ),
        ),
    ),
    Case(
        "not-null-sql",
        "setting-not-null",
        ("-- whimbrel:up\nALTER TABLE posts ALTER COLUMN title SET NOT NULL;\n",),
        (
            "-- whimbrel:up\nALTER TABLE posts ADD CONSTRAINT title_nn "
            "CHECK (title IS NOT NULL) NOT VALID;\n",
            "-- whimbrel:up\nALTER TABLE posts VALIDATE CONSTRAINT title_nn;\n",
            "-- whimbrel:up\nALTER TABLE posts ALTER COLUMN title SET NOT NULL;\n",
        ),
    ),
    # -- changing-column-type
    Case(
        "type-dsl",
        "changing-column-type",
        (py('with alter(table("posts")):\n    modify("views", "bigint", from_="integer")'),),
        (
            py('with alter(table("posts")):\n    modify("title", "string", size=500)'),
            py('with alter(table("posts")):\n    modify("title", "text")'),
        ),
    ),
    Case(
        "type-known-from-earlier-migration",
        "changing-column-type",
        (py('with alter(table("posts")):\n    modify("views", "bigint")'),),
        (py('with alter(table("posts")):\n    modify("views", "integer", null=True)'),),
    ),
    Case(
        "type-sql",
        "changing-column-type",
        ("-- whimbrel:up\nALTER TABLE posts ALTER COLUMN views TYPE bigint;\n",),
        ("-- whimbrel:up\nALTER TABLE posts ALTER COLUMN title TYPE varchar(1000);\n",),
    ),
    # -- adding-volatile-default
    Case(
        "volatile-dsl",
        "adding-volatile-default",
        (
            py(
                'with alter(table("posts")):\n'
                '    add("uid", "uuid", default=fragment("gen_random_uuid()"))'
            ),
            py('with alter(table("posts")):\n    add("seq", "bigserial")'),
        ),
        (
            py(
                'with alter(table("posts")):\n'
                '    add("seen_at", "utc_datetime", default=fragment("now()"))'
            ),
            py('with alter(table("posts")):\n    add("score", "integer", default=0, null=False)'),
        ),
    ),
    Case(
        "volatile-sql",
        "adding-volatile-default",
        (
            "-- whimbrel:up\n"
            "ALTER TABLE posts ADD COLUMN t timestamptz DEFAULT clock_timestamp();\n",
        ),
        ("-- whimbrel:up\nALTER TABLE posts ADD COLUMN t timestamptz DEFAULT now();\n",),
    ),
    # -- renames and drops
    Case(
        "rename-column-dsl",
        "renaming-column",
        (py('rename(table("posts"), "title", to="subject")'),),
        (
            py(
                'with create(table("drafts")):\n'
                '    add("t", "text")\n'
                'rename(table("drafts"), "t", to="title")'
            ),
        ),
    ),
    Case(
        "rename-column-sql",
        "renaming-column",
        (py('execute("ALTER TABLE posts RENAME COLUMN title TO subject")'),),
        (py('execute("ALTER TABLE posts RENAME CONSTRAINT a TO b")'),),
    ),
    Case(
        "rename-table-dsl",
        "renaming-table",
        (py('rename(table("posts"), to=table("articles"))'),),
        (py('create(table("drafts"))\nrename(table("drafts"), to=table("sketches"))'),),
    ),
    Case(
        "rename-table-sql",
        "renaming-table",
        ("-- whimbrel:up\nALTER TABLE posts RENAME TO articles;\n",),
        (
            "-- whimbrel:up\nCREATE TABLE drafts (id int);\n"
            "ALTER TABLE drafts RENAME TO sketches;\n",
        ),
    ),
    Case(
        "drop-column-dsl",
        "dropping-column",
        (py('with alter(table("posts")):\n    remove("views", "integer")'),),
        (
            py(
                'with alter(table("posts")):\n    remove("views", "integer")',
                'safety_assured = ["dropping-column"]\n\n',
            ),
        ),
    ),
    Case(
        "drop-column-sql",
        "dropping-column",
        ("-- whimbrel:up\nALTER TABLE posts DROP COLUMN views;\n",),
        (
            "-- whimbrel:up\n-- safety_assured: dropping-column\n"
            "ALTER TABLE posts DROP COLUMN views;\n",
        ),
    ),
    Case(
        "drop-table-dsl",
        "dropping-table",
        (py('drop(table("tags"))'),),
        (py('create(table("scratch"))\ndrop(table("scratch"))'),),
    ),
    Case(
        "drop-table-sql",
        "dropping-table",
        (py('execute("DROP TABLE tags")'),),
        (
            py(
                'execute("DROP TABLE IF EXISTS scratch_never_created_here")',
                'safety_assured = ["dropping-table"]\n\n',
            ),
        ),
    ),
    # -- adding-unique-constraint
    Case(
        "unique-sql",
        "adding-unique-constraint",
        ("-- whimbrel:up\nALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);\n",),
        (
            py(
                'create(unique_index("users", ["email"], name="users_email_ix", '
                "concurrently=True))",
                NO_TX,
            ),
            py(
                'execute("ALTER TABLE users ADD CONSTRAINT users_email_key '
                'UNIQUE USING INDEX users_email_ix")'
            ),
        ),
    ),
    Case(
        "primary-key-dsl",
        "adding-unique-constraint",
        (py('with alter(table("tags")):\n    add("id", "bigint", primary_key=True)'),),
        (
            py(
                'with create(table("labels", primary_key=False)):\n'
                '    add("id", "bigint", primary_key=True)'
            ),
        ),
    ),
    # -- data changes
    Case(
        "unbatched-execute",
        "unbatched-data-change",
        (py('execute("UPDATE posts SET views = 0")'),),
        (py('execute("UPDATE posts SET views = 0 WHERE id < 1000")'),),
    ),
    Case(
        "unbatched-repo",
        "unbatched-data-change",
        (up('repo().execute("DELETE FROM tags")'),),
        (up('repo().execute("DELETE FROM tags WHERE name = %s", ["x"])'),),
    ),
    Case(
        "data-with-ddl",
        "data-change-with-ddl",
        (
            up(
                'with alter(table("posts")):\n    add("score", "integer")\n'
                'repo().execute("UPDATE posts SET score = views WHERE id < 1000")'
            ),
        ),
        (
            py('with alter(table("posts")):\n    add("score", "integer")'),
            up('repo().execute("UPDATE posts SET score = views WHERE id < 1000")'),
            py(
                'with create(table("levels")):\n'
                '    add("n", "integer")\n'
                'execute("INSERT INTO levels (n) VALUES (1)")'
            ),
        ),
    ),
    # -- MySQL / MariaDB
    Case(
        "mysql-type-dsl",
        "mysql-copy-algorithm",
        (py('with alter(table("posts")):\n    modify("views", "bigint")'),),
        (py('with alter(table("posts")):\n    modify("title", "string", size=500)'),),
        database="mysql",
    ),
    Case(
        "mysql-fk-and-algorithm-sql",
        "mysql-copy-algorithm",
        (
            py(
                'execute("ALTER TABLE posts ADD CONSTRAINT fk FOREIGN KEY (author_id) '
                'REFERENCES users (id)")'
            ),
            py('execute("ALTER TABLE posts ADD INDEX i (title), ALGORITHM=COPY")'),
            py('execute("ALTER TABLE posts MODIFY COLUMN views bigint")'),
        ),
        (py('execute("ALTER TABLE posts ADD INDEX i (title), ALGORITHM=INPLACE, LOCK=NONE")'),),
        database="mysql",
    ),
    Case(
        "mysql-add-not-last-8.0.28",
        "mysql-table-rebuild",
        (py('with alter(table("posts")):\n    add("lead", "text", after="title")'),),
        (py('with alter(table("posts")):\n    add("lead", "text")'),),
        database="mysql",
        server_version="8.0.28",
    ),
    Case(
        "mysql-add-not-last-8.0.29-is-instant",
        "mysql-table-rebuild",
        (py('with alter(table("posts")):\n    modify("title", "string", null=False)'),),
        (
            py(
                'with alter(table("posts")):\n'
                '    add("lead", "text", after="title")\n'
                '    remove("views")'
            ),
        ),
        database="mysql",
        server_version="8.0.29",
    ),
    Case(
        "mariadb-drop-column-10.3",
        "mysql-table-rebuild",
        (py('execute("ALTER TABLE posts DROP COLUMN views")'),),
        (py('execute("ALTER TABLE posts ADD COLUMN lead text")'),),
        database="mariadb",
        server_version="10.3.7-MariaDB",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_unsafe_migration_triggers_the_rule(tmp_path: Path, case: Case) -> None:
    for n, source in enumerate(case.unsafe):
        findings = lint_after_setup(
            tmp_path / str(n), source, database=case.database, server_version=case.server_version
        )
        hits = [f for f in findings if f.rule == case.rule]
        assert hits, f"{case.rule} missed in:\n{source}\nfound: {findings}"
        assert all(f.line and f.line > 1 and f.fix and f.message for f in hits)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_safe_rewrite_does_not(tmp_path: Path, case: Case) -> None:
    findings = lint_after_setup(
        tmp_path, *case.safe, database=case.database, server_version=case.server_version
    )
    assert case.rule not in rules_of(findings), findings


def test_every_rule_has_a_case() -> None:
    assert set(all_rules()) == {c.rule for c in CASES}


@pytest.mark.parametrize(
    ("database", "present", "absent"),
    [
        ("postgresql", "require-concurrent-index", "mysql-copy-algorithm"),
        ("mysql", "mysql-copy-algorithm", "require-concurrent-index"),
        ("sqlite", "dropping-column", "changing-column-type"),
    ],
)
def test_rules_apply_to_the_databases_they_declare(
    tmp_path: Path, database: str, present: str, absent: str
) -> None:
    source = py(
        'create(index("posts", ["title"]))\n'
        'with alter(table("posts")):\n    modify("views", "bigint")\n    remove("title")'
    )
    found = rules_of(lint_after_setup(tmp_path, source, database=database))
    assert present in found and absent not in found, found
