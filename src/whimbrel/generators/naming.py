"""Names for generated files and objects: versions, snake_case, identifiers, plurals.

Example::

    >>> snake_case("AddPosts")
    'add_posts'
    >>> pluralize("category")
    'categories'
    >>> migration_filename("20260101000000", "create_posts")
    '20260101000000_create_posts.py'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from whimbrel.errors import UsageError
from whimbrel.migrator.files import SQUASHED_FOLDER

#: PostgreSQL truncates identifiers longer than this (NAMEDATALEN - 1).
MAX_IDENTIFIER = 63

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VERSION = re.compile(r"^[0-9]{14}$")


def snake_case(name: str) -> str:
    """``AddPosts``, ``add-posts`` and ``add posts`` all become ``add_posts``.

    Raises ``UsageError`` when nothing usable is left (``"123"``, ``"--"``).
    """
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    snake = re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_").lower()
    if not _SNAKE.match(snake):
        raise UsageError(
            f"migration name {name!r} must start with a letter and hold letters, digits and "
            "underscores, e.g. create_posts"
        )
    return snake


def is_identifier(name: object) -> bool:
    """True for a plain SQL identifier: a letter or ``_``, then letters, digits, ``_``.

    >>> is_identifier("outbox_messages"), is_identifier("drop table x"), is_identifier("")
    (True, False, False)
    """
    return isinstance(name, str) and bool(_IDENTIFIER.match(name)) and len(name) <= MAX_IDENTIFIER


def table_name(name: str, what: str = "table name") -> str:
    """Check a table name used in a file name: lowercase snake_case, at most 63 characters.

    >>> table_name("outbox_messages")
    'outbox_messages'
    """
    if not _SNAKE.match(name) or len(name) > MAX_IDENTIFIER:
        raise UsageError(
            f"{what} {name!r} is not a plain identifier: use lowercase letters, digits and "
            f"underscores, starting with a letter, at most {MAX_IDENTIFIER} characters "
            "(e.g. outbox_messages)"
        )
    return name


def timestamp(now: datetime | None = None) -> str:
    """The UTC version ``YYYYMMDDHHMMSS``.

    >>> timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    '20260102030405'
    """
    return (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")


def used_versions(folder: Path) -> dict[int, Path]:
    """The versions of the migration files under ``folder`` (sub-folders too)."""
    if not folder.is_dir():
        return {}
    found = ((re.match(r"^([0-9]+)_.+\.(py|sql)$", p.name), p) for p in folder.rglob("*_*.*"))
    return {int(m[1]): p for m, p in found if m}


def new_version(folder: Path, now: datetime | None = None) -> str:
    """The UTC time as a version, a second later while another migration has it.

    Two files generated within one second would otherwise share a version,
    which the migrator refuses.
    """
    when = now or datetime.now(UTC)
    used = used_versions(folder)
    while int(timestamp(when)) in used:
        when += timedelta(seconds=1)
    return timestamp(when)


def check_version(version: str) -> str:
    """A pinned version must look like a generated one: 14 digits, not all zero.

    Version 0 is not a migration (the migrator skips it), hence the second rule.
    """
    if not _VERSION.match(version) or int(version) == 0:
        raise UsageError(
            f"timestamp {version!r} must be 14 digits YYYYMMDDHHMMSS and greater than zero, "
            "e.g. 20260101000000"
        )
    return version


def migration_filename(version: str, name: str) -> str:
    """``<version>_<name>.py``."""
    return f"{version}_{name}.py"


def same_name_migrations(folder: Path, name: str) -> list[Path]:
    """Migration files under ``folder`` (sub-folders too) called ``<version>_<name>``.

    Sorted oldest first (by version, then path). The files ``whimbrel squash``
    moved to ``squashed/`` are no migrations any more, so they are left out.
    """
    if not folder.is_dir():
        return []
    pattern = re.compile(rf"^([0-9]+)_{re.escape(name)}\.(py|sql)$")
    squashed = folder / SQUASHED_FOLDER
    found = [
        (int(m[1]), p)
        for p in folder.rglob(f"*_{name}.*")
        if (m := pattern.match(p.name)) and squashed not in p.parents
    ]
    return [p for _, p in sorted(found)]


def refuse_existing(folder: Path, name: str) -> None:
    """Raise ``UsageError`` when a migration called ``name`` already exists.

    Two migrations with one name are an error for the migrator, so the
    generator refuses before writing the second.
    """
    existing = same_name_migrations(folder, name)
    if existing:
        raise UsageError(
            f"a migration named {name!r} already exists: {existing[0]}; choose another name "
            "or delete that file"
        )


_IRREGULAR = {"person": "people", "child": "children", "man": "men", "woman": "women"}
#: Last words that make a name a role (``created_by``), not a noun to pluralize.
ROLE_WORDS = frozenset({"by", "of", "to", "for", "from", "with", "at", "in", "on"})


def pluralize(word: str) -> str:
    """A table name from an entity name, by the common English rules.

    Irregular words can be overridden where the name is declared (``table = "..."``).

    A name ending in a preposition (``created_by``) is a role, not a noun, and
    is returned unchanged rather than mangled into ``created_bies``.

    >>> [pluralize(w) for w in ("post", "category", "address", "box", "day", "person")]
    ['posts', 'categories', 'addresses', 'boxes', 'days', 'people']
    >>> pluralize("created_by")
    'created_by'
    """
    head, _, last = word.rpartition("_")
    lower = last.lower()
    if lower in ROLE_WORDS:
        return word
    if lower in _IRREGULAR:
        plural = _IRREGULAR[lower]
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        plural = last + "es"
    elif lower.endswith("y") and lower[-2:-1] not in tuple("aeiou"):
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return f"{head}_{plural}" if head else plural
