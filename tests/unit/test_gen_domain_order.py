"""Table order: referenced tables first, ties by name, cycles broken by a later alter."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from whimbrel.generators.domain.order import Plan, cycle_path, plan


def test_referenced_tables_come_first_and_ties_go_by_name() -> None:
    result = plan({"reviews": {"books"}, "books": {"authors"}, "authors": set(), "tags": set()})
    assert result == Plan(("authors", "books", "reviews", "tags"), frozenset())


def test_a_self_reference_needs_no_alter() -> None:
    assert plan({"categories": {"categories"}}) == Plan(("categories",), frozenset())


def test_a_two_table_cycle_defers_the_smaller_names_key() -> None:
    result = plan({"books": {"authors"}, "authors": {"books"}})
    assert result == Plan(("authors", "books"), frozenset({("authors", "books")}))


def test_only_the_cycle_is_broken_not_the_tables_leading_into_it() -> None:
    # aaa -> bbb <-> ccc: aaa is not on the cycle, so its key is never deferred.
    result = plan({"aaa": {"bbb"}, "bbb": {"ccc"}, "ccc": {"bbb"}})
    assert result == Plan(("bbb", "aaa", "ccc"), frozenset({("bbb", "ccc")}))


def test_cycle_path_for_the_comment() -> None:
    refs = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert cycle_path("a", "b", refs) == ["a", "b", "c", "a"]


_NAMES = st.sampled_from([f"t{i}" for i in range(7)])
_GRAPHS = st.dictionaries(_NAMES, st.sets(_NAMES, max_size=3), min_size=1).map(
    lambda g: {t: {r for r in refs if r in g} for t, refs in g.items()}
)


@given(_GRAPHS)
def test_every_table_once_and_every_kept_reference_points_back(graph: dict[str, set[str]]) -> None:
    result = plan(graph)
    assert sorted(result.tables) == sorted(graph)
    position = {t: i for i, t in enumerate(result.tables)}
    for table, refs in graph.items():
        for ref in refs - {table}:
            deferred = (table, ref) in result.deferred
            assert deferred == (position[ref] > position[table])


@given(_GRAPHS, st.randoms())
def test_the_plan_does_not_depend_on_declaration_order(
    graph: dict[str, set[str]], rnd: random.Random
) -> None:
    items = list(graph.items())
    rnd.shuffle(items)
    assert plan(dict(items)) == plan(graph)


@given(_GRAPHS)
def test_an_acyclic_graph_defers_nothing(graph: dict[str, set[str]]) -> None:
    ranks = {t: i for i, t in enumerate(sorted(graph))}
    acyclic = {t: {r for r in refs if ranks[r] < ranks[t]} for t, refs in graph.items()}
    assert plan(acyclic).deferred == frozenset()
