"""Squash baselines as the migrator sees them: which versions a baseline file stands for.

``whimbrel squash --to V`` (``whimbrel.structure.squash``) replaces the
migrations up to V with one SQL file, ``<V>_squashed.sql``, whose header
names what it replaces::

    -- whimbrel:squashes 10 20 30 40 50 60 70 80 90 100
    -- whimbrel:squashes 110 120 130 140 150 160 170 180 190 200
    -- whimbrel:squashed-checksum 3f2a...   (the old 200 file's checksum)
    -- whimbrel:up
    CREATE TABLE users (...);

The migrator reads these lines (and only from files named ``squashed``, so a
no-op ``migrate`` still opens no other file) to:

- list applied versions the baseline replaced as ``squashed into V`` in
  ``status`` instead of ``** FILE NOT FOUND **``;
- accept the baseline's new text on a database that ran the old file of
  version V (its recorded checksum is the ``squashed-checksum``): the new
  checksum is recorded by the next ``migrate``, any other difference is
  still an edit;
- skip replaced versions when planning a rollback (the baseline's down
  section drops their objects and deletes their rows), and refuse to run a
  pending baseline over a database that applied only some of them.

Example::

    >>> text = "-- whimbrel:squashes 10 20\\n-- whimbrel:squashed-checksum ab\\n-- whimbrel:up\\n"
    >>> parse(20, text)
    Baseline(version=20, covers=(10, 20), replaced_checksum='ab')
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from whimbrel.errors import MigrationFileError
from whimbrel.migrator.files import SQUASHED_FOLDER, MigrationFile

#: The name of a baseline file: ``<V>_squashed.sql``.
NAME = "squashed"
#: The folder (inside the migrations folder) the squashed files are moved to; not discovered.
FOLDER = SQUASHED_FOLDER

_COVERS = re.compile(r"^--\s*whimbrel:squashes\s+(?P<versions>[\d\s]+)$", re.MULTILINE)
_CHECKSUM = re.compile(r"^--\s*whimbrel:squashed-checksum\s+(?P<sum>[0-9a-f]+)\s*$", re.MULTILINE)
_UP = re.compile(r"^--\s*whimbrel:up", re.MULTILINE)


@dataclass(frozen=True)
class Baseline:
    """A squash baseline: its version, the versions it replaces, the old file's checksum."""

    version: int
    covers: tuple[int, ...]
    replaced_checksum: str | None = None

    @property
    def replaced(self) -> tuple[int, ...]:
        """The versions it stands for other than its own."""
        return tuple(v for v in self.covers if v != self.version)


def parse(version: int, text: str) -> Baseline | None:
    """The baseline a file's header describes, or None when it has no ``squashes`` line."""
    up = _UP.search(text)
    header = text[: up.start()] if up else text
    covers = sorted({int(v) for m in _COVERS.finditer(header) for v in m["versions"].split()})
    if not covers:
        return None
    checksum = _CHECKSUM.search(header)
    return Baseline(version, tuple(covers), checksum["sum"] if checksum else None)


def header(covers: Iterable[int], replaced_checksum: str | None, per_line: int = 10) -> str:
    """The ``-- whimbrel:squashes`` lines (``per_line`` versions each) and the checksum line."""
    versions = sorted(set(covers))
    lines = [
        "-- whimbrel:squashes " + " ".join(map(str, versions[i : i + per_line]))
        for i in range(0, len(versions), per_line)
    ]
    if replaced_checksum:
        lines.append(f"-- whimbrel:squashed-checksum {replaced_checksum}")
    return "\n".join(lines) + "\n"


def baselines(files: Iterable[MigrationFile]) -> dict[int, Baseline]:
    """version -> Baseline for every ``<V>_squashed.sql`` among ``files`` with a header."""
    found = {}
    for f in files:
        if f.name != NAME or f.path.suffix != ".sql":
            continue
        try:
            text = f.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # loading it reports the problem with the file's name
        baseline = parse(f.version, text)
        if baseline is not None:
            found[f.version] = baseline
    return found


def covered(files: Iterable[MigrationFile]) -> dict[int, int]:
    """replaced version -> the version of the baseline that replaced it."""
    return {v: b.version for b in baselines(files).values() for v in b.replaced}


def refuse_partly_squashed(
    files: list[MigrationFile], applied: list[int], replaced: dict[int, int]
) -> None:
    """Refuse a pending baseline on a database that applied some of the versions it replaced.

    Its ``CREATE`` statements would meet the tables those created; the
    database must first reach the baseline's version with the original files.
    """
    done = set(applied)
    for baseline in baselines(files).values():
        ran = sorted(done & set(baseline.replaced))
        if baseline.version in done or not ran:
            continue
        missing = [v for v in baseline.replaced if v not in done]
        raise MigrationFileError(
            f"this database applied {len(ran)} of the migrations squashed into "
            f"{baseline.version} ({', '.join(map(str, ran[:5]))}{' ...' if len(ran) > 5 else ''}) "
            f"but not {', '.join(map(str, missing[:5]))}{' ...' if len(missing) > 5 else ''}, "
            f"so the baseline {baseline.version}_squashed would create what already exists. "
            f"Bring it to {baseline.version} with the original files first (they are in the "
            f"{FOLDER}/ folder, or in version control): put them back, run "
            f"`whimbrel migrate --to {baseline.version}`, then restore the baseline",
            path=next(str(f.path) for f in files if f.version == baseline.version),
        )
