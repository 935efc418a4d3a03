"""Warnings for generated migrations that the project's database cannot run.

The outbox and domain generators write PostgreSQL-first migrations
(``gen_random_uuid()`` defaults, enum types, partial indexes). Rather than
letting the first ``whimbrel migrate`` fail, the generator says so as soon as
the file is written, naming what to change.

Example::

    >>> src = 'add("id", "binary_id", default=fragment("gen_random_uuid()"))'
    >>> portability_warnings(src, "sqlite:///app.db")[0][:52]
    'this migration calls gen_random_uuid(), a PostgreSQL'
    >>> portability_warnings(src, "postgresql://db/app")
    ()
"""

from __future__ import annotations

import re

_NAMES = {"sqlite": "SQLite", "mysql": "MySQL/MariaDB"}
_PARTIAL_INDEX = re.compile(r"\bindex\((?:[^()]|\([^()]*\))*\bwhere=", re.DOTALL)


def database_kind(url: str) -> str:
    """``postgresql``, ``sqlite`` or ``mysql`` (MariaDB included) for a URL."""
    from whimbrel.url import scheme

    name = scheme(url)
    return {"postgres": "postgresql", "mariadb": "mysql"}.get(name, name)


def portability_warnings(source: str, url: str) -> tuple[str, ...]:
    """What in the generated ``source`` the database of ``url`` will refuse, with the fix."""
    kind = database_kind(url)
    if kind not in _NAMES:
        return ()
    name = _NAMES[kind]
    found = []
    if "gen_random_uuid()" in source:
        found.append(
            f"this migration calls gen_random_uuid(), a PostgreSQL function, and the project's "
            f"database is {name}: it will fail there. Remove the default=fragment(...) from the "
            "binary_id columns and let the application set ids (or use a serial primary key)"
        )
    if re.search(r"\benum\(|CREATE TYPE", source):
        fix = (
            'use a "text" column' if kind == "sqlite" else "declare the column as \"enum('a','b')\""
        )
        found.append(
            f"this migration creates an enum type, which only PostgreSQL has, and the project's "
            f"database is {name}: {fix} instead"
        )
    if "plpgsql" in source:
        found.append(
            f"this migration creates a plpgsql function and trigger, which only PostgreSQL "
            f"runs, and the project's database is {name}: write the trigger in {name}'s own "
            "syntax with execute(up, down)"
        )
    if kind == "mysql" and _PARTIAL_INDEX.search(source):
        found.append(
            "this migration creates partial indexes (index(..., where=...)), which MySQL and "
            "MariaDB do not have: remove where= to index every row, or drop those indexes"
        )
    return tuple(found)
