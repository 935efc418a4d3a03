"""The domain file: what it accepts, and every mistake named by entity and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from whimbrel.errors import UsageError
from whimbrel.generators.domain import Field, Relation, load_domain, parse_domain


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "domain.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_domain(path)


def _problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(UsageError) as info:
        _load(tmp_path, text)
    assert info.value.exit_code == 2
    assert "\n\n" not in str(info.value)  # one paragraph
    return str(info.value)


def test_a_full_domain_is_read(tmp_path: Path) -> None:
    domain = _load(
        tmp_path,
        """
        domain = "library"
        multi_tenant = true
        [entities.author]
        fields = { name = { type = "string", required = true }, bio = "text" }
        [entities.book]
        table = "titles"
        fields.price = { type = "decimal", precision = 10, scale = 2, default = 0 }
        fields.on = { type = "date", default = 2026-01-01 }
        fields.at = { type = "utc_datetime", default_sql = "now()" }
        belongs_to.author = { required = true }
        belongs_to.editor = { entity = "author" }
        """,
    )
    assert domain.name == "library" and domain.multi_tenant  # type: ignore[attr-defined]
    author, book = domain.entities  # type: ignore[attr-defined]
    assert author.table == "authors"
    assert author.fields == (Field("name", "string", required=True), Field("bio", "text"))
    assert book.table == "titles"
    assert book.fields[0] == Field("price", "decimal", default=0, precision=10, scale=2)
    assert book.fields[1].default == "2026-01-01"
    assert book.fields[2].default_sql == "now()"
    assert book.belongs_to == (Relation("author", "author", True), Relation("editor", "author"))


def test_invalid_toml_is_reported_with_the_position(tmp_path: Path) -> None:
    message = _problems(tmp_path, 'domain = "x"\n[entities.a]\nfields = { name = }\n')
    assert "invalid TOML" in message and "line 3" in message


def test_toml_itself_refuses_a_key_given_twice(tmp_path: Path) -> None:
    text = 'domain = "x"\n[entities.a]\nfields.name = "text"\nfields.name = "string"\n'
    assert "invalid TOML" in _problems(tmp_path, text)


def test_unknown_type_names_entity_field_and_suggests(tmp_path: Path) -> None:
    message = _problems(
        tmp_path,
        """
        domain = "shop"
        [entities.order]
        fields.total = "decimel"
        """,
    )
    assert (
        "entity 'order', field 'total': unknown type 'decimel' (did you mean 'decimal'?)" in message
    )


def test_relation_to_a_missing_entity(tmp_path: Path) -> None:
    message = _problems(
        tmp_path,
        """
        domain = "shop"
        [entities.order]
        belongs_to.customer = {}
        [entities.custommer]
        """,
    )
    assert "entity 'order', belongs_to 'customer': refers to the entity 'customer'" in message
    assert "(did you mean 'custommer'?)" in message


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ('fields.id = "uuid"', "field 'id': makes the column 'id', which the primary key"),
        (
            'fields.inserted_at = "utc_datetime"',
            "field 'inserted_at': makes the column 'inserted_at', which timestamps()",
        ),
        (
            'fields.customer_id = "uuid"\nbelongs_to.customer = {}',
            "field 'customer_id': makes the column 'customer_id', which belongs_to 'customer'",
        ),
        (
            'fields.Total = "integer"\nfields.total = "integer"',
            "field 'total': makes the column 'total', which field 'Total' already makes "
            "(names are compared ignoring case)",
        ),
        ('fields.tenant_id = "uuid"', "which multi_tenant already makes"),
    ],
)
def test_a_column_made_twice_is_reported(tmp_path: Path, fields: str, expected: str) -> None:
    text = (
        f'domain = "shop"\nmulti_tenant = true\n[entities.customer]\n[entities.order]\n{fields}\n'
    )
    message = _problems(tmp_path, text)
    assert "entity 'order', " in message
    assert expected in message


def test_two_entities_on_one_table(tmp_path: Path) -> None:
    text = 'domain = "x"\n[entities.person]\n[entities.human]\ntable = "people"\n'
    assert "its table 'people' is also the table of entity 'person'" in _problems(tmp_path, text)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ('{ type = "decimal", scale = 2 }', "scale = 2 needs precision"),
        ('{ type = "integer", precision = 5 }', "precision and scale apply to decimal fields"),
        ('{ type = "decimal", precision = 2, scale = 3 }', "scale between 0 and precision"),
        ('{ type = "text", size = 10 }', "size applies to string fields"),
        ('{ type = "integer", default = "five" }', "default = 'five' does not suit a integer"),
        ('{ type = "integer", default = true }', "does not suit a integer"),
        ('{ type = "boolean", default = 1 }', "does not suit a boolean"),
        ('{ type = "text", default = "a", default_sql = "b" }', "default or default_sql, not both"),
        ('{ type = "text", required = "yes" }', "required = 'yes': use true or false"),
        ('{ type = "text", nullable = true }', "unknown key 'nullable'"),
        ('{ type = "string", precision = 1.5 }', "precision = 1.5: use a whole number"),
        ("42", "give a type"),
        ('{ type = "float", default = nan }', "default = nan: give a finite number"),
    ],
)
def test_bad_field_options(tmp_path: Path, field: str, expected: str) -> None:
    message = _problems(tmp_path, f'domain = "x"\n[entities.item]\nfields.f = {field}\n')
    assert "entity 'item', field 'f': " in message
    assert expected in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[entities.a]\n", "domain = None: give the domain a lowercase snake_case name"),
        ('domain = "My Domain"\n[entities.a]\n', "domain = 'My Domain'"),
        ('domain = "x"\n', "no entities"),
        ('domain = "x"\nmulti_tenant = "yes"\n[entities.a]\n', "multi_tenant = 'yes'"),
        ('domain = "x"\ntenants = true\n[entities.a]\n', "unknown key 'tenants'"),
        (
            'domain = "x"\n[entities.a]\nfield = {}\n',
            "unknown key 'field' (did you mean 'fields'?)",
        ),
        ('domain = "x"\n[entities."a b"]\n', "the entity name 'a b' is not a plain identifier"),
        ('domain = "x"\n[entities.a]\nfields."first name" = "text"\n', "field 'first name'"),
        ('domain = "x"\n[entities.a]\nbelongs_to.a = true\n', "belongs_to 'a': must be a table"),
        (
            'domain = "x"\n[entities.a]\nbelongs_to.b = { entity = "a", on_delete = "x" }\n',
            "unknown key 'on_delete'",
        ),
    ],
)
def test_bad_domain_structure(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in _problems(tmp_path, text)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    message = _problems(
        tmp_path,
        """
        domain = "x"
        [entities.a]
        fields = { one = "nope", two = "nada" }
        belongs_to.missing = {}
        """,
    )
    assert message.count("\n  - ") == 3
    assert "3 problems in the domain (nothing was written)" in message


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the domain file"):
        load_domain(tmp_path / "nope.toml")


def test_parse_domain_works_on_plain_data() -> None:
    domain = parse_domain({"domain": "x", "entities": {"a": {}}})
    assert [e.table for e in domain.entities] == ["as"]


def test_index_names_past_63_characters_are_reported(tmp_path: Path) -> None:
    long = "a" * 40
    text = f'domain = "x"\nmulti_tenant = true\n[entities.{long}]\nbelongs_to.{long} = {{}}\n'
    message = _problems(tmp_path, text)
    assert f"entity '{long}', belongs_to '{long}': the index name" in message
    assert "longer than PostgreSQL's 63 characters" in message
