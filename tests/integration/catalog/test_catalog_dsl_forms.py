"""Issue 9's DSL forms on every database: quoted index names, array defaults, MySQL
generated columns, interval fields, and misplaced options, checked on the real catalog."""

from __future__ import annotations

import pytest
from catalog_harness import RoundTrip
from migration_helpers import error_text, run_cli

from whimbrel.inspect import Catalog


def test_an_index_on_a_column_with_odd_characters(rt: RoundTrip) -> None:
    rt.setup(
        """
        with create(table("people")):
            add("first name", "string")
            add("o'brien", "string")
        """
    )
    rt.run(
        """
        create(index("people", [quoted("first name"), desc(quoted("o'brien"))], name="by_name"))
        """,
        # PostgreSQL reports the names quoted ("first name"), the others bare.
        check=lambda db: (
            [c.replace('"', "") for c in db.table("people").index("by_name").columns]
            == ["first name", "o'brien DESC"]
        ),
    )


def test_a_semicolon_outside_quotes_in_an_index_column_is_refused(rt: RoundTrip) -> None:
    rt.setup('with create(table("t")):\n    add("a", "string")')
    version = rt._next_version
    rt._write('create(index("t", ["a); DROP TABLE t; --"]))', "", None, "")
    done = run_cli(rt.project, rt.url, "migrate")
    assert done.returncode == 2, done.stderr
    message = error_text(done)
    assert f"{version}_m{version}.py" in message and '";" outside quotes' in message
    assert "quoted(" in message
    assert "t" in rt.catalog().table_names


def test_an_empty_array_default_is_cast_without_the_size(rt: RoundTrip) -> None:
    if rt.backend == "sqlite":
        pytest.skip("SQLite stores an array default as JSON text: there is no cast")
    if rt.backend == "mysql":
        rt.refused(
            'with create(table("t")):\n    add("tags", array("string"), default=[])',
            says="array columns",
        )
        return
    rt.run(
        'with create(table("t")):\n    add("tags", array("string"), default=[])',
        # Ecto's form: the stored default names varchar[] (character varying[]), no (255).
        check=lambda db: db.table("t").column("tags").default == "ARRAY[]::character varying[]",
    )


def test_a_generated_column_on_mysql_is_written_as_ecto_writes_it(rt: RoundTrip) -> None:
    if rt.backend != "mysql":
        body = 'add("d", "float", generated="ALWAYS AS (n * 2) STORED")'
    else:
        body = 'add("d", "float", generated="(CAST(n AS double))")'
    if rt.backend == "sqlite":
        body = 'add("d", "float", generated="ALWAYS AS (n * 2) VIRTUAL")'

    def check(db: Catalog) -> None:
        column = db.table("t").column("d")
        assert column.generated is not None, column

    rt.run(f'with create(table("t")):\n    add("n", "integer")\n    {body}', check=check)


def test_interval_fields_of_a_duration_column(rt: RoundTrip) -> None:
    body = 'with create(table("t")):\n    add("span", "duration", fields="YEAR TO MONTH")'
    if rt.backend != "postgres":
        rt.refused(body, says="fields=")
        return
    rt.run(body, check=lambda db: db.table("t").column("span").type == "interval year to month")


def test_an_option_given_to_add_names_the_call_it_belongs_to(rt: RoundTrip) -> None:
    rt.setup('create(table("news_sources"))')
    rt._write(
        'with create(table("items")):\n'
        '    add("source_id", references("news_sources"), on_delete="nilify_all")',
        "",
        None,
        "",
    )
    done = run_cli(rt.project, rt.url, "migrate")
    assert done.returncode == 2, done.stderr
    message = error_text(done)
    assert "on_delete= is not a column option: it belongs inside references(...)" in message
    assert "items" not in rt.catalog().table_names
