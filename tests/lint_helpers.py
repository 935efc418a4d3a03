"""Writing small migration folders for the lint tests and linting them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from whimbrel.lint import Finding, lint_paths

#: Migration 1 of every case: the tables that exist before the migration under test.
SETUP = """
from whimbrel.migration import *

def change():
    with create(table("users")):
        add("email", "string")
    with create(table("posts")):
        add("title", "string")
        add("views", "integer")
        add("author_id", "bigint")
    create(table("tags", primary_key=False))
"""


def write(folder: Path, *sources: str, first: int = 1) -> list[Path]:
    """One migration file per source: ``.sql`` when it starts with ``-- whimbrel:up``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, source in enumerate(sources, first):
        text = textwrap.dedent(source).lstrip("\n")
        suffix = ".sql" if text.startswith("-- whimbrel:up") else ".py"
        path = folder / f"{n}_step{n}{suffix}"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def lint_after_setup(
    tmp_path: Path, *sources: str, database: str = "postgresql", server_version: str | None = None
) -> list[Finding]:
    """Lint ``sources`` as migrations 2, 3, ... after ``SETUP`` created the tables."""
    folder = tmp_path / "migrations"
    write(folder, SETUP, *sources)
    return lint_paths([folder], database=database, server_version=server_version)


def rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}
