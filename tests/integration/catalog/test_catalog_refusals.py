"""What a database cannot express is refused before anything runs, catalog untouched.

The per-database limits come from ``tests/integration/backends.py`` (the
adapters' Capabilities and ``UNEXPRESSIBLE``) and from docs/databases.md;
the round trips of the same commands on the databases that do express them
are in the other ``test_catalog_*`` files. Each refusal also runs through
the CLI once, which must exit 2 with one error paragraph.
"""

from __future__ import annotations

import pytest
from backends import UNEXPRESSIBLE, WHY, backend, has
from catalog_harness import RoundTrip
from migration_helpers import write_change

from whimbrel.inspect import inspect

#: (id, DSL body, {backend: words the refusal must say}); other backends express it.
REFUSALS = [
    (
        "drop-cascade",
        'drop(table("made_before_the_refusal"), mode="cascade")',
        {"sqlite": 'mode="cascade"', "mysql": 'mode="cascade"'},
    ),
    (
        "validate-constraint",
        'validate_constraint("made_before_the_refusal", "c")',
        {"sqlite": "NOT VALID", "mysql": "NOT VALID"},
    ),
    (
        "drop-index-cascade",
        'drop(index("made_before_the_refusal", ["id"]), mode="cascade")',
        {"sqlite": 'mode="cascade"', "mysql": 'mode="cascade"'},
    ),
    (
        "add-enum-value",
        'add_enum_value("mood", "meh")',
        {"sqlite": "enum", "mysql": "enum"},
    ),
]


@pytest.mark.parametrize(
    ("body", "refusing"), [pytest.param(r[1], r[2], id=r[0]) for r in REFUSALS]
)
def test_refused_before_anything_runs(rt: RoundTrip, body: str, refusing: dict[str, str]) -> None:
    if rt.backend not in refusing:
        pytest.skip(f"{rt.backend} expresses it (its round trip is in test_catalog_*)")
    rt.refused(body, says=refusing[rt.backend])


def test_the_command_backends_py_names_unexpressible(rt: RoundTrip) -> None:
    command = UNEXPRESSIBLE.get(rt.backend)
    if command is None:
        pytest.skip(f"{rt.backend}: backends.UNEXPRESSIBLE names no command it refuses")
    rt.setup(
        """
        with create(table("a")):
            add("x", "text")
        """
    )
    message = rt.refused(command, cli=True)
    assert "does not support" in message


def test_a_table_in_another_schema(rt: RoundTrip) -> None:
    if rt.backend == "mysql":
        # A MySQL prefix is another database: usable when it exists, never created.
        pytest.skip(f"mysql: {WHY[('mysql', 'schemas')]}")
    if not has(rt.url, "schemas"):
        message = rt.refused('create(table("t", prefix="other"))')
        assert "has no schemas" in message, WHY[(backend(rt.url), "schemas")]
        return
    rt.setup('execute("CREATE SCHEMA other", "DROP SCHEMA other")')
    write_change(rt.project, 2, "other", 'create(table("t", prefix="other"))')
    with rt.migrator() as m:
        assert m.up() == [2]
        assert inspect(rt.url, "other").table_names == {"t"}
        assert "t" not in rt.catalog().table_names
        assert m.down() == [2]
    assert inspect(rt.url, "other").tables == ()
