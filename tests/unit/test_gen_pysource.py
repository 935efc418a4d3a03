"""The source writer behind generated migrations: literals round-trip, long calls explode."""

from __future__ import annotations

import ast

from hypothesis import given
from hypothesis import strategies as st

from whimbrel.generators.pysource import LINE_LENGTH, Raw, call, import_line, literal

_SCALARS = st.none() | st.booleans() | st.integers() | st.text()
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(_VALUES)
def test_literals_evaluate_back_to_the_value(value: object) -> None:
    assert ast.literal_eval(literal(value)) == value


@given(st.text())
def test_strings_use_the_quotes_ruff_prefers(text: str) -> None:
    quote = literal(text)[0]
    assert quote == ("'" if '"' in text and "'" not in text else '"')


def test_raw_code_is_written_as_is() -> None:
    assert literal(Raw('fragment("now()")')) == 'fragment("now()")'


def test_a_call_that_fits_stays_on_one_line() -> None:
    assert call("add", "title", "string", null=False, default=None).render(8) == (
        'add("title", "string", null=False)'
    )


def test_a_long_call_explodes_with_trailing_commas_at_every_level() -> None:
    ref = call("references", "authors", type="binary_id", on_delete="delete_all")
    text = call("add", "author_id", ref, null=False).render(8)
    assert text == (
        "add(\n"
        '            "author_id",\n'
        '            references("authors", type="binary_id", on_delete="delete_all"),\n'
        "            null=False,\n"
        "        )"
    )
    deeper = call("add", "author_id", ref, null=False).render(40)
    assert " " * 48 + '"authors",' in deeper.splitlines()  # references() exploded too
    assert all(len(line) <= LINE_LENGTH for line in deeper.splitlines())


def test_imports_are_sorted_and_wrapped_when_long() -> None:
    assert import_line("m", {"b", "a"}) == "from m import a, b"
    names = {f"name_{i:02}" for i in range(12)}
    wrapped = import_line("whimbrel.migration", names)
    assert wrapped.splitlines()[0] == "from whimbrel.migration import ("
    assert wrapped.splitlines()[1] == "    name_00,"
    assert wrapped.endswith(",\n)")
