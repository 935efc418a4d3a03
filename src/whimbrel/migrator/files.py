"""Finding migration files: ``<version>_<name>.py`` or ``.sql``, sub-folders included.

Only file names are read here, so listing 500 applied migrations costs a
directory walk and no imports (a no-op ``migrate`` stays fast).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from whimbrel.errors import DuplicateMigrationError

log = logging.getLogger("whimbrel")

#: Where ``whimbrel squash`` moves the files it replaced (``whimbrel.migrator.squashed``).
SQUASHED_FOLDER = "squashed"

_FILE = re.compile(r"^(?P<version>[0-9]+)_(?P<name>[a-z0-9_]+)\.(?P<ext>py|sql)$")
_LOOKS_LIKE = re.compile(r"^[0-9]+_.*\.(py|sql)$")


@dataclass(frozen=True, order=True)
class MigrationFile:
    """One migration file; ordered by version."""

    version: int
    name: str
    path: Path

    @property
    def label(self) -> str:
        return f"{self.version}_{self.name}"


def discover(folder: Path, *, warn: bool = True) -> list[MigrationFile]:
    """Every migration file under ``folder``, sorted by version.

    Files that do not match ``<version>_<snake_case_name>.py|.sql`` are skipped
    with a warning naming them; a second file with the same version or name
    raises ``DuplicateMigrationError`` naming both. The ``squashed/`` folder at
    the top of ``folder`` holds the files ``whimbrel squash`` replaced and is
    not read.
    """
    if not folder.is_dir():
        return []
    found: list[MigrationFile] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        if root == str(folder) and SQUASHED_FOLDER in dirs:
            dirs.remove(SQUASHED_FOLDER)
        for filename in files:
            match = _FILE.match(filename)
            if match and int(match["version"]) > 0:
                found.append(
                    MigrationFile(int(match["version"]), match["name"], Path(root, filename))
                )
            elif warn and (_LOOKS_LIKE.match(filename) or filename.endswith((".py", ".sql"))):
                if filename != "__init__.py":
                    log.warning(
                        "skipping %s: migration files are named <version>_<snake_case_name>.py "
                        "or .sql with a positive integer version, "
                        "e.g. 20261122093000_create_posts.py",
                        Path(root, filename),
                    )
    found.sort(key=lambda f: (f.version, f.name))  # tuples compare faster than order=True
    check_duplicates(found)
    return found


def check_duplicates(files: list[MigrationFile]) -> None:
    """Refuse two files with one version or one name, naming both files."""
    for what in ("version", "name"):
        seen: dict[object, MigrationFile] = {}
        for f in files:
            key = getattr(f, what)
            other = seen.setdefault(key, f)
            if other is not f:
                raise DuplicateMigrationError(
                    f"migration {what} {key} is used by two files: {other.path} and {f.path}; "
                    f"rename one of them so every {what} is unique"
                )
