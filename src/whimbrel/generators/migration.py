"""``whimbrel gen migration NAME``: a new, timestamped migration file.

Example::

    path = generate_migration(Path("migrations"), "add_posts")
    # migrations/20261122093000_add_posts.py
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from whimbrel.errors import UsageError

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def snake_case(name: str) -> str:
    """``AddPosts``, ``add-posts`` and ``add posts`` all become ``add_posts``."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    snake = re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_").lower()
    if not _SNAKE.match(snake):
        raise UsageError(
            f"migration name {name!r} must start with a letter and hold letters, digits and "
            "underscores, e.g. create_posts"
        )
    return snake


def timestamp(now: datetime | None = None) -> str:
    """The UTC version ``YYYYMMDDHHMMSS``."""
    return (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")


def template_text(name: str) -> str:
    """The text of a template shipped in ``whimbrel/generators/templates``."""
    return resources.files("whimbrel.generators").joinpath(f"templates/{name}.tmpl").read_text("utf-8")


def generate_migration(folder: Path, name: str, *, version: str | None = None) -> Path:
    """Write an empty reversible migration and return its path.

    Refuses when a migration with the same name exists (``*_<name>.py``/``.sql``).
    """
    snake = snake_case(name)
    same = re.compile(rf"^[0-9]+_{snake}\.(py|sql)$")
    existing = sorted(p for p in folder.rglob(f"*_{snake}.*") if same.match(p.name))
    if existing:
        raise UsageError(f"a migration named {snake!r} already exists: {existing[0]}; choose another name")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version or timestamp()}_{snake}.py"
    path.write_text(template_text("blank.py"), encoding="utf-8")
    return path
