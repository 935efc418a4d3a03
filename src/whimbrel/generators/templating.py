"""Templates shipped in ``whimbrel/generators/templates``, and what a generator returns.

A template is Python source with ``{{ name }}`` placeholders. Plain text
substitution (no logic in templates) keeps them readable as the migrations
they become; anything conditional is decided in Python and passed in.

Example::

    >>> fill('create(table("{{ table }}"))', {"table": "posts"})
    'create(table("posts"))'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def template_text(name: str) -> str:
    """The text of ``templates/<name>.tmpl``."""
    path = resources.files("whimbrel.generators").joinpath(f"templates/{name}.tmpl")
    return path.read_text("utf-8")


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``{{ name }}`` with ``values[name]``.

    A placeholder without a value is a bug in the generator, so it raises
    ``KeyError`` rather than leaving ``{{ name }}`` in a user's migration.
    """
    return _PLACEHOLDER.sub(lambda m: values[m[1]], text)


def render(name: str, **values: str) -> str:
    """Fill the template ``templates/<name>.tmpl``."""
    return fill(template_text(name), values)


@dataclass(frozen=True)
class Generated:
    """What a generator produced: the file, its source and what to tell the user.

    ``status`` is ``"created"``, ``"updated"``, ``"unchanged"`` or ``"dry-run"``
    (nothing written). ``notes`` are printed after the path (next steps);
    ``warnings`` go to stderr.
    """

    path: Path
    source: str
    status: str = "created"
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def write_source(path: Path, source: str) -> None:
    """Write a generated file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
