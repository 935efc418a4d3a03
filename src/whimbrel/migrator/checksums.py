"""Checksums of applied migrations, kept beside Ecto's versions table.

Ecto's ``schema_migrations`` has two columns (``version``, ``inserted_at``)
and an Ecto application sharing the database inserts rows with exactly
those. A checksum column there would break nothing in Ecto's own reads, but
a third ``NOT NULL`` column would break its inserts, and a nullable one
would be left empty by every Ecto migration anyway. So checksums live in a
side table, ``<migration_source>_checksums(version, checksum, algorithm)``,
per prefix: Ecto never sees it, and dropping it loses nothing but the
checks.

**What the checksum covers**: the migration file's text, as SHA-256 of its
lines with line endings normalised, trailing whitespace removed and blank
lines dropped (``algorithm = "text-v1"``). So re-saving with CRLF, stripping
trailing spaces or adding blank lines is no edit; changing code, a string,
a comment or a docstring is. The file is hashed rather than the compiled
SQL because that needs no import, recording or compiling: checking 1,000
applied files costs one read and one hash each, on every ``migrate``. It
also means a whimbrel upgrade that compiles a DSL call differently never
flags an unchanged file (Flyway's and Liquibase's checksum churn). The
``algorithm`` column lets a later normalisation adopt old rows instead of
flagging them.

- A migration applied through whimbrel gets its row in the transaction
  that inserts its version; a rollback deletes it.
- An applied version with no row (applied by Ecto, or before checksums
  existed) is adopted silently: its current checksum is recorded.
- An applied version whose file's checksum differs is *edited*: ``status``
  marks it and ``migrate`` refuses to run (exit 2) until the file is
  restored or ``--accept-edited VERSION`` records the new checksum.
- Except a squash baseline (``<V>_squashed.sql``, ``whimbrel squash``) on a
  database whose recorded checksum is the one of the file it replaced (its
  ``-- whimbrel:squashed-checksum`` line): that database ran the old file of
  V, so the baseline's checksum is adopted like an unrecorded one.

Example::

    >>> text_checksum("a = 1  \\r\\n\\r\\nb = 2\\n") == text_checksum("a = 1\\nb = 2")
    True
"""

from __future__ import annotations

import json
import os
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whimbrel.adapters.base import Adapter
from whimbrel.dialects.quoting import quote
from whimbrel.errors import EditedMigrationError, UsageError
from whimbrel.migrator.files import MigrationFile

SUFFIX = "_checksums"
ALGORITHM = "text-v1"


def text_checksum(text: str) -> str:
    """SHA-256 of the text's non-blank lines, each without trailing whitespace."""
    import hashlib  # only when a file is read: a cached checksum needs none

    lines = [line for line in map(str.rstrip, text.splitlines()) if line]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def file_checksum(path: Path) -> str:
    """The checksum of a migration file (``text_checksum`` of its UTF-8 text)."""
    return text_checksum(path.read_bytes().decode("utf-8", errors="surrogateescape"))


RACY_S = 2.0


def file_stamp(path: str) -> list[int]:
    """What says a file is unchanged since it was read: mtime, ctime, size, inode (as git)."""
    st = os.stat(path)
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]


def settled(stamp: list[int]) -> bool:
    """Whether a file last changed more than ``RACY_S`` ago: an edit in the same clock
    tick as the read would otherwise go unseen (git's "racy" entries)."""
    return time.time_ns() - max(stamp[0], stamp[1]) > RACY_S * 1e9


def write_json(path: str, data: object) -> None:
    """Write a cache file whole or not at all; a cache that cannot be written is skipped.

    Through a temporary file of this process and thread (``--jobs`` workers write at
    once), then ``os.replace``: readers see the old file or the new one.
    """
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.{threading.get_ident()}"
        with open(temporary, "w") as f:
            json.dump(data, f)
        os.replace(temporary, path)
    except OSError:
        pass


class FileChecksums:
    """``file_checksum`` remembered across runs by each file's ``stat``, as git's index does.

    A file whose modification time, change time, size and inode are those seen
    when it was last hashed is not read again, so a ``status`` of 10,000 applied
    files costs 10,000 ``stat`` calls rather than 10,000 reads and hashes. An
    entry is only kept for a file last changed more than ``RACY_S`` seconds before
    it was hashed: an edit within the same clock tick as the hash would otherwise
    go unseen (git's "racy" entries). The cache is one small JSON file per
    migrations folder (named by a hash of its path) in ``$WHIMBREL_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/whimbrel``, else ``~/.cache/whimbrel``;
    ``WHIMBREL_CACHE_DIR=off`` turns it off. Entries of files that no longer
    exist are dropped when a folder's file is rewritten. It is only ever a
    shortcut: a cache that cannot be read or written is ignored.

    Example::

        with FileChecksums() as checksum:
            checksum("migrations/20260101120000_create_posts.py")
    """

    RACY_S = RACY_S
    VERSION = 2

    def __init__(self, folder: str | None = None):
        if folder is None:
            folder = os.environ.get("WHIMBREL_CACHE_DIR") or os.path.join(
                os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "whimbrel"
            )
        self.folder = None if folder == "off" else folder
        #: migrations folder -> (path -> [mtime_ns, ctime_ns, size, inode, checksum])
        self.scopes: dict[str, dict[str, list[Any]]] = {}
        self.changed: set[str] = set()

    def __enter__(self) -> FileChecksums:
        return self

    def file(self, scope: str) -> str | None:
        """The cache file of one migrations folder."""
        if self.folder is None:
            return None
        # A CRC names the file (the file says which folder it is for, so two folders
        # sharing a name only miss the cache); hashlib would cost its import here.
        name = f"{zlib.crc32(scope.encode()):08x}"
        return os.path.join(self.folder, f"checksums-{name}.json")

    def _entries(self, scope: str) -> dict[str, list[Any]]:
        entries = self.scopes.get(scope)
        if entries is None:
            entries = self.scopes[scope] = {}
            cached = self.file(scope)
            try:
                if cached is not None:
                    with open(cached, "rb") as f:
                        data = json.loads(f.read())
                    if data.get("version") == self.VERSION and data.get("scope") == scope:
                        entries.update(data["entries"])
            except (OSError, ValueError, KeyError, AttributeError, TypeError):
                entries.clear()
        return entries

    def __call__(self, path: str | os.PathLike[str]) -> str:
        key = os.path.abspath(path)
        scope = os.path.dirname(key)
        entries = self._entries(scope)
        stamp = file_stamp(key)
        entry = entries.get(key)
        if entry is not None and entry[:4] == stamp:
            return str(entry[4])
        checksum = file_checksum(Path(key))
        if time.time_ns() - max(stamp[0], stamp[1]) > self.RACY_S * 1e9:
            entries[key] = [*stamp, checksum]
            self.changed.add(scope)
        return checksum

    def __exit__(self, *_: object) -> None:
        for scope in self.changed:
            cached = self.file(scope)
            if cached is None:
                continue
            entries = {k: v for k, v in self.scopes[scope].items() if os.path.exists(k)}
            write_json(cached, {"version": self.VERSION, "scope": scope, "entries": entries})


@dataclass
class Verdict:
    """What comparing the applied files with their recorded checksums found."""

    #: version -> current checksum, for applied versions with no row yet (adopt them).
    adopt: dict[int, str] = field(default_factory=dict)
    #: edited applied migrations (checksum differs), in version order.
    edited: list[MigrationFile] = field(default_factory=list)
    #: version -> current checksum of every applied file that has one.
    current: dict[int, str] = field(default_factory=dict)
    #: every version of the folder, applied or pending.
    known: set[int] = field(default_factory=set)


class Checksums:
    """The checksums side table of one migration source."""

    def __init__(self, adapter: Adapter, source: str):
        self.adapter = adapter
        self.name = source + SUFFIX
        #: Off where the adapter keeps no side table (ArangoDB): nothing is read or written.
        self.enabled = adapter.capabilities.checksums
        #: Prefixes whose side table ``recorded`` found: ``setup_sql`` sends nothing for them.
        self.present: set[str | None] = set()

    def table(self, prefix: str | None) -> str:
        return self.adapter.versions_table(prefix, self.name)

    def setup_sql(self, prefix: str | None) -> list[str]:
        """``CREATE TABLE IF NOT EXISTS`` for the side table (nothing if it was just read)."""
        if not self.enabled or prefix in self.present:
            return []
        q = self.adapter.quote_char
        v, c, a = (quote(n, q) for n in ("version", "checksum", "algorithm"))
        return [
            f"CREATE TABLE IF NOT EXISTS {self.table(prefix)} ({v} bigint PRIMARY KEY, "
            f"{c} varchar(64) NOT NULL, {a} varchar(16) NOT NULL)"
        ]

    def recorded(self, prefix: str | None) -> dict[int, str]:
        """version -> recorded checksum; empty when the side table does not exist yet."""
        if not self.enabled:
            return {}
        if not self.adapter.table_exists(self.name, prefix):
            return {}
        self.present.add(prefix)
        q = self.adapter.quote_char
        rows = self.adapter.query(
            f"SELECT {quote('version', q)}, {quote('checksum', q)} FROM {self.table(prefix)}"
        )
        return {int(v): str(c) for v, c in rows}

    def record_sql(
        self, prefix: str | None, version: int, direction: str, checksum: str
    ) -> list[str]:
        """Statements that store (up) or forget (down) a version's checksum."""
        if not self.enabled:
            return []
        q = self.adapter.quote_char
        table = self.table(prefix)
        if direction != "up":
            return [f"DELETE FROM {table} WHERE {quote('version', q)} = {int(version)}"]
        text = self.adapter.string_literal
        values = [str(int(version)), text(checksum), text(ALGORITHM)]
        # one statement: a row left by a version deleted by hand is replaced, not a conflict
        return [self.adapter.replace_row_sql(table, ("version", "checksum", "algorithm"), values)]

    def compare(
        self,
        files: Iterable[MigrationFile],
        applied: Iterable[int],
        prefix: str | None,
        *,
        adopt: bool = True,
    ) -> Verdict:
        """Hash every applied file and compare it with the recorded checksums.

        With ``adopt=False`` (``status``: it only marks edits) files with no recorded
        checksum are not read at all, and ``Verdict.adopt`` stays empty.
        """
        verdict = Verdict()
        if not self.enabled:
            return verdict
        done = set(applied)
        recorded = self.recorded(prefix)
        with FileChecksums() as checksum:
            for f in files:
                verdict.known.add(f.version)
                before = recorded.get(f.version)
                if f.version not in done or (before is None and not adopt):
                    continue
                now = verdict.current[f.version] = checksum(f.location)
                if before is None:
                    verdict.adopt[f.version] = now
                elif before != now and _replaced_by_baseline(f, before):
                    if adopt:  # the old file of V ran there: record the baseline's instead
                        verdict.adopt[f.version] = now
                elif before != now:
                    verdict.edited.append(f)
        return verdict

    def enforce(
        self,
        verdict: Verdict,
        prefix: str | None,
        accept: Iterable[int] = (),
        *,
        write: bool = True,
    ) -> None:
        """Adopt unrecorded versions, record accepted edits, refuse the other edits.

        Raises ``EditedMigrationError`` (exit 2) naming every edited file that
        ``accept`` does not list, before anything is written; ``UsageError``
        for an accepted version that is not an edited applied migration.
        """
        accepted = set(accept)
        edited = {f.version for f in verdict.edited}
        # Versions of another folder (tenants) are left to that folder's run.
        stray = sorted((accepted & verdict.known) - edited)
        if stray:
            raise UsageError(
                f"--accept-edited {', '.join(map(str, stray))}: not an applied migration whose "
                "file changed; `whimbrel status` marks the edited ones"
            )
        refused = [f for f in verdict.edited if f.version not in accepted]
        if refused:
            raise EditedMigrationError(
                edited_message(refused, prefix), [f.version for f in refused]
            )
        if not write:
            return
        fixes = {**verdict.adopt, **{v: verdict.current[v] for v in accepted}}
        for version, checksum in sorted(fixes.items()):
            for sql in self.record_sql(prefix, version, "up", checksum):
                self.adapter.execute(sql)


def _replaced_by_baseline(f: MigrationFile, recorded: str) -> bool:
    """``f`` is a squash baseline and ``recorded`` is the checksum of the file it replaced."""
    from whimbrel.migrator import squashed

    baseline = squashed.baselines([f]).get(f.version)
    return baseline is not None and baseline.replaced_checksum == recorded


def edited_message(edited: list[MigrationFile], prefix: str | None) -> str:
    """Names each edited file and both ways out."""
    where = f" (prefix {prefix})" if prefix else ""
    names = ", ".join(str(f.path) for f in edited)
    versions = " ".join(f"--accept-edited {f.version}" for f in edited)
    return (
        f"applied migration{'s' if len(edited) > 1 else ''}{where} changed since "
        f"{'they' if len(edited) > 1 else 'it'} ran: {names}. The database still has what the "
        "old text did; a change to an applied migration never runs. Restore the file "
        "(git checkout) and put the change in a new migration, or, if the edit changes nothing "
        f"the database should have, accept it: whimbrel migrate {versions}"
    )
