"""What lint learned from the applied migrations, remembered between runs.

Before ``migrate`` runs anything, lint walks every applied migration of the
folder for what it teaches (column types, validated not-null checks: the
``Schema``), then lints the planned ones against it. With 500 applied
migrations that walk loads and records 500 files on every deploy that has
something to run, about 0.2 s. The walk's result depends only on those files
(and on the database, its version and the DSL defaults), so it is kept: next
time the files that were walked are unchanged (same ``stat``, as
``whimbrel.migrator.checksums.FileChecksums`` checks them), only the ones
applied since are walked.

The cache lives beside the checksum cache (``$WHIMBREL_CACHE_DIR``, off with
``off``), one small JSON file per migrations folder. A file changed less than
two seconds before the walk is never remembered (git's "racy" rule), and a
cache that cannot be read is ignored: it is only ever a shortcut.

Example::

    cache = ContextCache.for_folder(folder, key="postgresql|15|...")
    schema, walked = cache.load(files)   # the Schema after walked[:n] files, or a new one
    ...                                  # walk files[len(walked):], then
    cache.store(files, schema)
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Sequence
from typing import Any

from whimbrel.lint.context import Schema
from whimbrel.migrator.checksums import RACY_S, FileChecksums, file_stamp, settled, write_json
from whimbrel.migrator.files import MigrationFile

VERSION = 1


def _dump(schema: Schema) -> dict[str, Any]:
    return {
        "columns": [[t, c, type_] for (t, c), type_ in sorted(schema.columns.items())],
        "not_null_checked": sorted([list(k) for k in schema.not_null_checked]),
        "unvalidated_checks": [
            [t, n, c] for (t, n), c in sorted(schema.unvalidated_checks.items())
        ],
    }


def _load(data: dict[str, Any]) -> Schema:
    return Schema(
        columns={(t, c): type_ for t, c, type_ in data["columns"]},
        not_null_checked={(t, c) for t, c in data["not_null_checked"]},
        unvalidated_checks={(t, n): c for t, n, c in data["unvalidated_checks"]},
    )


def cache_key(database: str, server_version: str | None, defaults: object) -> str:
    """What a walk's result depends on besides the files: the database, its version, the
    DSL defaults, and whimbrel's own lint code (its version and its files' mtimes)."""
    import whimbrel

    here = os.path.dirname(__file__)
    code = [
        str(os.stat(os.path.join(here, name)).st_mtime_ns)
        for name in sorted(os.listdir(here))
        if name.endswith(".py")
    ]
    return "|".join([whimbrel.__version__, database, server_version or "", repr(defaults), *code])


class ContextCache:
    """The ``Schema`` lint learned from a folder's first N migrations, and which files they were."""

    RACY_S = RACY_S

    def __init__(self, file: str | None, key: str):
        self.file = file
        self.key = key

    @classmethod
    def for_folder(cls, folder: str, *, key: str, cache_dir: str | None = None) -> ContextCache:
        """The cache of one migrations folder; ``key`` names what else the walk depended on."""
        where = FileChecksums(cache_dir).folder
        if where is None:
            return cls(None, key)
        name = f"lint-context-{zlib.crc32(os.path.abspath(folder).encode()):08x}.json"
        return cls(os.path.join(where, name), key)

    def load(self, files: Sequence[MigrationFile]) -> tuple[Schema, int]:
        """The schema after the longest remembered prefix of ``files``, and that prefix's length.

        ``(Schema(), 0)`` when nothing usable is remembered.
        """
        if self.file is None:
            return Schema(), 0
        try:
            with open(self.file, "rb") as f:
                data = json.loads(f.read())
            if data.get("version") != VERSION or data.get("key") != self.key:
                return Schema(), 0
            walked = data["files"]
            if len(walked) > len(files):
                return Schema(), 0
            for (path, stamp), file in zip(walked, files, strict=False):
                if path != os.path.abspath(file.location) or stamp != file_stamp(path):
                    return Schema(), 0
            return _load(data["schema"]), len(walked)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return Schema(), 0

    def store(self, files: Sequence[MigrationFile], schema: Schema) -> None:
        """Remember ``schema`` as what walking ``files`` (in order) taught."""
        if self.file is None or not files:
            return
        try:
            stamps = [file_stamp(f.location) for f in files]
        except OSError:
            return
        if not all(map(settled, stamps)):
            return  # a file changed just now: an edit in the same tick would go unseen
        walked = [[os.path.abspath(f.location), s] for f, s in zip(files, stamps, strict=True)]
        data = {"version": VERSION, "key": self.key, "files": walked, "schema": _dump(schema)}
        write_json(self.file, data)
