"""``whimbrel gen migration NAME [--template T]``: a new, timestamped migration file.

Each template renders a runnable, reversible migration whose placeholders
(table, column, type) are taken from NAME where it says them:

=================== ===================================== =================================
template            NAME (example)                        placeholders
=================== ===================================== =================================
``blank``           anything                              none
``create_table``    ``create_posts``                      table ``posts``
``alter_table``     ``alter_posts``                       table ``posts``
``add_column``      ``add_summary_to_posts``              ``posts.summary``
``add_index``       ``add_title_and_slug_index_to_posts`` ``posts(title, slug)``
``add_foreign_key`` ``add_author_id_to_posts``            ``posts.author_id`` → ``authors``
``add_trigger``     ``add_updated_at_trigger_to_posts``   trigger on ``posts``
``create_enum``     ``create_post_status``                ``post_status``, ``posts.status``
``hypertable``      ``create_ticks_hypertable``           TimescaleDB hypertable ``ticks``
=================== ===================================== =================================

For an ArangoDB project (``arangodb(s)://`` URL) ``blank``, ``create_table``
(a collection with a JSON-schema block), ``alter_table`` and ``add_index``
render ArangoDB migrations importing ``whimbrel.dsl.arango``; the other
templates are SQL-only and refused there.

Example::

    path = generate_migration(Path("migrations"), "create_posts", template="create_table").path
    # migrations/20261122093000_create_posts.py
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from whimbrel.errors import UsageError
from whimbrel.generators.naming import (
    ROLE_WORDS,
    migration_filename,
    new_version,
    pluralize,
    refuse_existing,
    snake_case,
)
from whimbrel.generators.pysource import call, statement
from whimbrel.generators.templating import Generated, render, template_text, write_source

_VERBS = ("create", "alter", "change", "update", "add")
_SUFFIXES = ("table", "index", "foreign_key", "fk", "trigger", "enum", "type", "column")
_TARGET = re.compile(r"^(?P<subject>.+)_(?:to|on|for|in)_(?P<target>[a-z][a-z0-9_]*)$")


@dataclass(frozen=True)
class Words:
    """What a migration name talks about: ``add_summary_to_posts`` → subject ``summary``,
    target ``posts``.

    >>> Words.of("add_title_index_to_posts")
    Words(subject='title', target='posts')
    >>> Words.of("create_posts_table")
    Words(subject='posts', target=None)
    """

    subject: str
    target: str | None

    @classmethod
    def of(cls, name: str) -> Words:
        match = _TARGET.match(name)
        head, target = (match["subject"], match["target"]) if match else (name, None)
        for verb in _VERBS:
            head = head.removeprefix(verb + "_") if head != verb else ""
        for suffix in _SUFFIXES:
            head = head.removesuffix("_" + suffix) if head != suffix else ""
        return cls(head, target)

    @property
    def table(self) -> str:
        """The table acted on: the target, else the subject."""
        return self.target or self.subject or "my_table"


def _blank(_: Words) -> str:
    return template_text("blank.py")


def _create_table(w: Words) -> str:
    return render("create_table.py", table=w.table)


def _alter_table(w: Words) -> str:
    return render("alter_table.py", table=w.table)


def _add_column(w: Words) -> str:
    column = w.subject if w.target and w.subject else "new_column"
    add = statement(call("add", column, "string"), 8)
    return render("add_column.py", table=w.table, add_column=add)


def _add_index(w: Words) -> str:
    columns = w.subject.split("_and_") if w.target and w.subject else ["column_name"]
    create = call("create", call("index", w.table, columns))
    return render("add_index.py", create_index=statement(create, 4))


def referenced_table(base: str) -> tuple[str, str]:
    """The table a ``<base>_id`` column points at, and a note when that is only a guess.

    ``author`` → ``authors``. A name that ends in a preposition (``created_by``,
    ``owned_by``) names a role, not a table: it points at ``users`` by
    convention, and the file says to check that.

    >>> referenced_table("author")
    ('authors', '')
    >>> referenced_table("created_by")[0]
    'users'
    """
    if base.rpartition("_")[2] in ROLE_WORDS:
        note = (
            f"# CHECK: {base}_id names a role, not a table; it is taken to reference\n"
            '# "users". Change references("users") if it points elsewhere.\n'
        )
        return "users", note
    return pluralize(base), ""


def _add_foreign_key(w: Words) -> str:
    base = w.subject.removesuffix("_id") if w.target and w.subject else "parent"
    column = f"{base}_id"
    target, note = referenced_table(base)
    ref = call("references", target, on_delete="nothing")
    return render(
        "add_foreign_key.py",
        guess_note=note,
        table=w.table,
        add_reference=statement(call("add", column, ref), 8),
        create_index=statement(call("create", call("index", w.table, [column])), 4),
    )


def _add_trigger(w: Words) -> str:
    return render("add_trigger.py", table=w.table, function=f"{w.table}_set_updated_at")


def _create_enum(w: Words) -> str:
    type_name = w.subject or "status"
    table, column = w.target, type_name
    if table is None:
        # create_post_status → type post_status on posts.status
        owner, _, rest = type_name.partition("_")
        table, column = (pluralize(owner), rest) if rest else ("my_table", type_name)
    add = call("add", column, type_name, null=False, default="pending")
    return render("create_enum.py", type=type_name, table=table, add_column=statement(add, 8))


def _hypertable(w: Words) -> str:
    return render("hypertable.py", table=w.table.removesuffix("_hypertable"))


TEMPLATES: dict[str, Callable[[Words], str]] = {
    "blank": _blank,
    "create_table": _create_table,
    "alter_table": _alter_table,
    "add_column": _add_column,
    "add_index": _add_index,
    "add_foreign_key": _add_foreign_key,
    "add_trigger": _add_trigger,
    "create_enum": _create_enum,
    "hypertable": _hypertable,
}


def _arango_add_index(w: Words) -> str:
    columns = w.subject.split("_and_") if w.target and w.subject else ["field_name"]
    create = call("create", call("index", w.table, columns))
    return render("arango_add_index.py", create_index=statement(create, 4))


#: ArangoDB projects: the same template names, rendered with the ArangoDB DSL.
ARANGO_TEMPLATES: dict[str, Callable[[Words], str]] = {
    "blank": lambda _: template_text("arango_blank.py"),
    "create_table": lambda w: render("arango_create_collection.py", table=w.table),
    "alter_table": lambda w: render("arango_alter_collection.py", table=w.table),
    "add_index": _arango_add_index,
}


def render_migration(name: str, template: str = "blank", *, arango: bool = False) -> str:
    """The source of a migration called ``name`` from ``template`` (pure, no I/O).

    >>> print(render_migration("add_summary_to_posts", "add_column"))
    from whimbrel.migration import add, alter, table
    <BLANKLINE>
    <BLANKLINE>
    def change():
        with alter(table("posts")):
            add("summary", "string")
    <BLANKLINE>
    """
    if arango:
        if template not in ARANGO_TEMPLATES:
            raise UsageError(
                f"template {template!r} writes SQL, which ArangoDB does not run: for an "
                f"ArangoDB project use one of {', '.join(ARANGO_TEMPLATES)}"
            )
        return ARANGO_TEMPLATES[template](Words.of(snake_case(name)))
    if template not in TEMPLATES:
        close = difflib.get_close_matches(template, list(TEMPLATES), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(
            f"unknown template {template!r}{hint}: the templates are {', '.join(TEMPLATES)}"
        )
    return TEMPLATES[template](Words.of(snake_case(name)))


def generate_migration(
    folder: Path,
    name: str,
    *,
    template: str = "blank",
    version: str | None = None,
    arango: bool = False,
) -> Generated:
    """Write a new migration ``<folder>/<version>_<name>.py`` and return it.

    ``name`` is turned into snake_case; ``version`` defaults to the UTC time.
    Refuses (``UsageError``) an unknown template, or a name that another
    migration already has (``*_<name>.py``/``.sql``, sub-folders included).
    ``arango`` renders the ArangoDB DSL (the project's URL is ``arangodb(s)://``).
    """
    snake = snake_case(name)
    source = render_migration(snake, template, arango=arango)
    refuse_existing(folder, snake)
    path = folder / migration_filename(version or new_version(folder), snake)
    write_source(path, source)
    return Generated(path, source)
