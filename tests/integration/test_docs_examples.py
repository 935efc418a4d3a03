"""The examples in the docs run: each fenced migration is applied, then rolled back.

docs/dsl.md: every ``python`` block that defines ``change()`` is one migration,
run on its own. docs/sql_migrations.md: the ``sql`` blocks are consecutive
migrations of one project. PostgreSQL runs them, because the examples show
PostgreSQL features (arrays, ``CREATE INDEX CONCURRENTLY``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from migration_helpers import Catalog, migrator, write

DOCS = Path(__file__).resolve().parents[2] / "docs"
_FENCE = re.compile(r"^```(?P<lang>\w+)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)


def fenced(page: str, lang: str) -> list[str]:
    """The ``lang`` code blocks of ``docs/<page>``, in order."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return [m["body"] for m in _FENCE.finditer(text) if m["lang"] == lang]


DSL_EXAMPLES = [b for b in fenced("dsl.md", "python") if re.search(r"^def change\(", b, re.M)]


def test_the_pages_have_examples_to_run() -> None:
    assert DSL_EXAMPLES, "docs/dsl.md lost its examples"
    assert len(fenced("sql_migrations.md", "sql")) == 2


@pytest.mark.parametrize("index", range(len(DSL_EXAMPLES)))
def test_dsl_example_applies_and_rolls_back(tmp_path: Path, pg_url: str, index: int) -> None:
    write(tmp_path / "migrations", "10_example.py", DSL_EXAMPLES[index])
    catalog = Catalog(pg_url)
    with migrator(tmp_path, pg_url) as m:
        assert m.up() == [10]
        assert catalog.user_tables(), "the example created nothing"
        assert m.down() == [10]
    assert catalog.user_tables() == set()


def test_sql_migration_examples_apply_and_roll_back(tmp_path: Path, pg_url: str) -> None:
    for n, body in enumerate(fenced("sql_migrations.md", "sql"), start=1):
        write(tmp_path / "migrations", f"{n}_example_{n}.sql", body)
    catalog = Catalog(pg_url)
    with migrator(tmp_path, pg_url) as m:
        assert m.up() == [1, 2]
        assert "audit_log_message_index" in catalog.indexes("audit_log")
        assert catalog.scalar("SELECT message FROM audit_log") == "created; with a semicolon"
        assert m.down(all=True) == [2, 1]
    assert catalog.user_tables() == set()
