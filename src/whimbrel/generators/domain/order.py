"""In which order to create a domain's tables, and which foreign keys must wait.

A table is created after every table it references; among tables that are
ready at the same time the smallest name goes first, so the order never
depends on the domain file's layout. Tables that reference each other (a
cycle) cannot all come first: the smallest-named table on the cycle is created
without its foreign keys into the cycle, and those are added by a later
``alter``. A table referencing itself needs nothing special: PostgreSQL
accepts the reference inside its own ``CREATE TABLE``.

Example::

    >>> plan({"books": {"authors"}, "authors": set()})
    Plan(tables=('authors', 'books'), deferred=frozenset())
    >>> plan({"authors": {"books"}, "books": {"authors"}})
    Plan(tables=('authors', 'books'), deferred=frozenset({('authors', 'books')}))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass

Edges = Callable[[str], set[str]]


@dataclass(frozen=True)
class Plan:
    """``tables`` in creation order; ``deferred`` holds ``(table, referenced)`` pairs
    whose foreign keys are added after every table exists."""

    tables: tuple[str, ...]
    deferred: frozenset[tuple[str, str]]


def plan(references: Mapping[str, Set[str]]) -> Plan:
    """Order the tables of ``references`` (table → the tables it references)."""
    graph = {t: {r for r in refs if r != t} for t, refs in references.items()}
    remaining = set(graph)
    postponed: set[tuple[str, str]] = set()
    order: list[str] = []

    def waits_for(table: str) -> set[str]:
        return {r for r in graph[table] if r in remaining and (table, r) not in postponed}

    while remaining:
        ready = sorted(t for t in remaining if not waits_for(t))
        if ready:
            order.append(ready[0])
            remaining.remove(ready[0])
            continue
        # Every remaining table waits, so some wait in a circle: break the
        # smallest-named table's links into its own cycle.
        table = min(t for t in remaining if t in _reachable(t, waits_for))
        postponed |= {(table, r) for r in waits_for(table) if table in _reachable(r, waits_for)}
    position = {t: i for i, t in enumerate(order)}
    deferred = {(t, r) for t in graph for r in graph[t] if position[r] > position[t]}
    return Plan(tuple(order), frozenset(deferred))


def _reachable(start: str, edges: Edges) -> set[str]:
    """Every table reached by following ``edges`` from ``start`` (itself if on a cycle)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in edges(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def cycle_path(table: str, referenced: str, references: Mapping[str, Set[str]]) -> list[str]:
    """A shortest path ``referenced → ... → table`` closing the cycle, for comments.

    >>> cycle_path("a", "b", {"a": {"b"}, "b": {"c"}, "c": {"a"}})
    ['a', 'b', 'c', 'a']
    """
    paths = {referenced: [table, referenced]}
    todo = [referenced]
    while todo:
        current = todo.pop(0)
        for nxt in sorted(references.get(current, ())):
            if nxt == table:
                return [*paths[current], table]
            if nxt not in paths:
                paths[nxt] = [*paths[current], nxt]
                todo.append(nxt)
    return [table, referenced]
