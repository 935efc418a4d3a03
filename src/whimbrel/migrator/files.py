"""Finding migration files: ``<version>_<name>.py`` or ``.sql``, sub-folders included.

Only file names are read here, so listing 500 applied migrations costs a
directory walk and no imports (a no-op ``migrate`` stays fast).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from whimbrel.errors import DuplicateMigrationError

log = logging.getLogger("whimbrel")

#: Where ``whimbrel squash`` moves the files it replaced (``whimbrel.migrator.squashed``).
SQUASHED_FOLDER = "squashed"

_FILE = re.compile(r"^(?P<version>[0-9]+)_(?P<name>[a-z0-9_]+)\.(?P<ext>py|sql)$")
_LOOKS_LIKE = re.compile(r"^[0-9]+_.*\.(py|sql)$")


class MigrationFile:
    """One migration file; ordered by version, then name.

    ``path`` is a ``Path`` built on first use: listing 10,000 files then costs
    no 10,000 ``Path`` objects when only versions are compared (``status``).

    >>> MigrationFile(20, "add_tags", "m/20_add_tags.py") < MigrationFile(30, "b", "m/30_b.py")
    True
    """

    __slots__ = ("version", "name", "_path")

    def __init__(self, version: int, name: str, path: str | Path):
        self.version = version
        self.name = name
        self._path = path

    @property
    def path(self) -> Path:
        if not isinstance(self._path, Path):
            self._path = Path(self._path)
        return self._path

    @property
    def location(self) -> str:
        """The path as text, without building a ``Path`` (for bulk reads)."""
        return str(self._path)

    @property
    def label(self) -> str:
        return f"{self.version}_{self.name}"

    def _key(self) -> tuple[int, str, str]:
        return (self.version, self.name, str(self._path))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MigrationFile) and self._key() == other._key()

    def __lt__(self, other: MigrationFile) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"MigrationFile(version={self.version!r}, name={self.name!r}, path={self.path!r})"


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
                path = root + os.sep + filename  # os.walk's root is a plain str
                found.append(MigrationFile(int(match["version"]), match["name"], path))
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
        if len({getattr(f, what) for f in files}) == len(files):
            continue  # the usual case, checked in one pass
        seen: dict[object, MigrationFile] = {}
        for f in files:
            key = getattr(f, what)
            other = seen.setdefault(key, f)
            if other is not f:
                raise DuplicateMigrationError(
                    f"migration {what} {key} is used by two files: {other.path} and {f.path}; "
                    f"rename one of them so every {what} is unique"
                )
