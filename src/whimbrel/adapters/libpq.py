"""A read-only PostgreSQL session on libpq itself, for the commands that only read.

``status``, ``ensure-up`` and the "nothing to do" check of ``migrate`` read
the versions table and the checksums beside it, and nothing else. Importing
psycopg costs more than all of that (about 0.15 s here: its error classes,
type adapters and asyncio), so those reads go through libpq, the C library
psycopg itself wraps, called with ``ctypes``: about 20 ms from ``import
ctypes`` to the first row. Anything that writes (a migration, the lock, a
table that has to be created) still goes through psycopg
(``PostgresAdapter``).

libpq is found where psycopg's binary wheel ships it (``psycopg_binary.libs``)
or as the system's ``libpq.so.5``, and only when psycopg is installed too, so
a project that cannot migrate cannot seem to read. Where neither is found,
or ``WHIMBREL_LIBPQ=0`` is set, the reads go through psycopg as before.

Example::

    reader = LibpqReader.open("postgresql://app@db/app", Settings())
    if reader is not None:
        reader.query("SELECT version FROM schema_migrations WHERE version > %s", (0,))
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Sequence
from importlib.util import find_spec
from typing import Any

from whimbrel.adapters.base import KEEPALIVE, Adapter, DatabaseConfig, Settings, no_answer
from whimbrel.adapters.postgres import PostgresAdapter
from whimbrel.errors import DatabaseError, UnsupportedFeatureError

_CONNECTION_OK = 0
_PGRES_COMMAND_OK, _PGRES_TUPLES_OK = 1, 2
#: PQresultErrorField codes: SQLSTATE, primary message, detail, hint.
_SQLSTATE, _PRIMARY, _DETAIL, _HINT = (ord(c) for c in "CMDH")
#: Type OID -> text-to-Python conversion (bool, int8, int2, int4, oid); others stay text.
_CONVERT: dict[int, Any] = {16: b"t".__eq__, 20: int, 21: int, 23: int, 26: int}

_LIB: ctypes.CDLL | None = None


def _candidates() -> list[str]:
    """Where libpq may be: psycopg's binary wheel first, then the system's."""
    found = []
    spec = find_spec("psycopg_binary")  # finds the package without importing it
    for location in (spec.submodule_search_locations or []) if spec else []:
        for folder in (f"{location}.libs", os.path.join(location, ".dylibs")):
            if os.path.isdir(folder):
                names = sorted(n for n in os.listdir(folder) if n.startswith("libpq"))
                found += [os.path.join(folder, n) for n in names]
    return found + (["libpq.5.dylib"] if sys.platform == "darwin" else ["libpq.so.5"])


def _load() -> ctypes.CDLL | None:
    """libpq with the signatures used here, or None where it cannot be loaded."""
    global _LIB
    if _LIB is not None:
        return _LIB
    try:
        if find_spec("psycopg") is None:
            return None
        candidates = _candidates()
    except (ImportError, ValueError):  # an import hook that refuses the driver
        return None
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        p, s, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        for name, restype, argtypes in (
            ("PQconnectdbParams", p, [ctypes.POINTER(s), ctypes.POINTER(s), i]),
            ("PQstatus", i, [p]),
            ("PQerrorMessage", s, [p]),
            ("PQfinish", None, [p]),
            ("PQsocket", i, [p]),
            ("PQdb", s, [p]),
            ("PQbackendPID", i, [p]),
            ("PQexecParams", p, [p, s, i, p, ctypes.POINTER(s), p, p, i]),
            ("PQresultStatus", i, [p]),
            ("PQresultErrorField", s, [p, i]),
            ("PQntuples", i, [p]),
            ("PQnfields", i, [p]),
            ("PQftype", ctypes.c_uint, [p, i]),
            ("PQgetisnull", i, [p, i, i]),
            ("PQgetvalue", s, [p, i, i]),
            ("PQclear", None, [p]),
        ):
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
        _LIB = lib
        return lib
    return None


def _strings(values: list[str | None]) -> Any:
    array = (ctypes.c_char_p * (len(values) + 1))()
    array[:-1] = [v.encode() if v is not None else None for v in values]
    return array


def _positional(sql: str, params: Any) -> tuple[str, list[str | None]]:
    """psycopg's ``%s`` placeholders as libpq's ``$1``…, and the values as text.

    >>> _positional("SELECT 1 WHERE a = %s AND b LIKE 'x%%' AND c = %s", (1, True))
    ("SELECT 1 WHERE a = $1 AND b LIKE 'x%' AND c = $2", ['1', 't'])
    """
    if not params:
        return sql, []
    pieces = sql.split("%%")
    count = 0
    for index, piece in enumerate(pieces):
        parts = piece.split("%s")
        for n in range(1, len(parts)):
            count += 1
            parts[n] = f"${count}" + parts[n]
        pieces[index] = "".join(parts)
    values = [None if v is None else {True: "t", False: "f"}.get(v, str(v)) for v in params]
    return "%".join(pieces), values


class LibpqReader(PostgresAdapter):
    """``PostgresAdapter`` for reads only, talking to libpq directly (see the module)."""

    @classmethod
    def open(cls, url: str, settings: Settings) -> LibpqReader | None:
        """A connected reader, or None where libpq is not available (use psycopg then).

        A connection that fails raises ``DatabaseConnectionError`` as psycopg's would.
        """
        if os.environ.get("WHIMBREL_LIBPQ", "1") == "0" or _load() is None:
            return None
        reader = cls(url, settings)
        reader.connect()
        return reader

    def connect(self) -> None:
        lib = _load()
        assert lib is not None  # open() checked
        self._lib = lib
        url = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
        options = {
            "dbname": url,  # expand_dbname: the URL itself, its query parameters included
            "connect_timeout": str(max(2, -int(-self.settings.connect_timeout // 1))),
            "application_name": "whimbrel",
            "client_encoding": "UTF8",  # text is decoded as UTF-8, whatever the database's
            "keepalives": "1",
            **{f"keepalives_{k}": str(int(v)) for k, v in KEEPALIVE.items()},
        }
        timeout = self.settings.statement_timeout
        if timeout is not None:  # as the psycopg session sets it; reads are bounded too
            options["options"] = "-c statement_timeout=" + str(timeout).replace(" ", "\\ ")
        conn = lib.PQconnectdbParams(_strings(list(options)), _strings(list(options.values())), 1)
        if lib.PQstatus(conn) != _CONNECTION_OK:
            reason = (lib.PQerrorMessage(conn) or b"").decode(errors="replace").strip()
            lib.PQfinish(conn)
            raise self.connection_error(reason.splitlines()[0] if reason else "no answer")
        self._pq = conn
        self._client_timeout = self.settings.client_timeout()
        self._abandoned = False

    def close(self) -> None:
        conn, self._pq = getattr(self, "_pq", None), None
        if conn:
            self._lib.PQfinish(conn)

    def execute(self, sql: str, params: Any = None) -> None:
        raise UnsupportedFeatureError(f"the libpq reader only reads; {sql!r} needs psycopg")

    def execute_batch(self, statements: Sequence[str]) -> None:
        raise UnsupportedFeatureError("the libpq reader only reads; a batch needs psycopg")

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        lib = self._lib
        text, values = _positional(sql, params)
        with self._watchdog(self._client_timeout):
            res = lib.PQexecParams(
                self._pq, text.encode(), len(values), None, _strings(values), None, None, 0
            )
        try:
            status = lib.PQresultStatus(res) if res else -1
            if status == _PGRES_TUPLES_OK:
                return self._rows(res)
            if status == _PGRES_COMMAND_OK:
                return []
            raise self._error(res, sql)
        finally:
            if res:
                lib.PQclear(res)

    def applied_versions(self, prefix: str | None, source: str) -> list[int]:
        """As ``Adapter.applied_versions``, in one text value: 10,000 rows would cost
        10,000 calls through ctypes, one comma-separated string costs one."""
        if not self.table_exists(source, prefix):
            return []
        rows = self.query(
            f"SELECT string_agg(v.version::text, ',' ORDER BY v.version) "
            f"FROM ({self.select_versions_sql(prefix, source)}) AS v"
        )
        text = rows[0][0] if rows else None
        return [int(v) for v in text.split(",")] if text else []

    def _rows(self, res: int) -> list[tuple[Any, ...]]:
        lib = self._lib
        value, isnull = lib.PQgetvalue, lib.PQgetisnull
        convert = [
            (f, _CONVERT.get(lib.PQftype(res, f), bytes.decode)) for f in range(lib.PQnfields(res))
        ]
        rows = []
        for r in range(lib.PQntuples(res)):
            row = []
            for f, to_python in convert:
                raw = value(res, r, f)
                # libpq gives NULL as "", so only an empty value needs the second call
                row.append(None if not raw and isnull(res, r, f) else to_python(raw))
            rows.append(tuple(row))
        return rows

    def _error(self, res: int | None, sql: str) -> DatabaseError:
        lib = self._lib
        if self._abandoned:
            return DatabaseError(
                no_answer(self._client_timeout or 0, self.settings, self.url), statement=sql
            )

        def field(code: int) -> str | None:
            value = lib.PQresultErrorField(res, code) if res else None
            return value.decode(errors="replace").strip() if value else None

        message = field(_PRIMARY) or (lib.PQerrorMessage(self._pq) or b"").decode().strip()
        detail, hint = field(_DETAIL), field(_HINT)
        text = message + (f" ({detail})" if detail else "") + (f". Hint: {hint}" if hint else "")
        return DatabaseError(text, statement=sql, sqlstate=field(_SQLSTATE))

    def _socket(self) -> int:
        return int(self._lib.PQsocket(self._pq))

    def session_id(self) -> int | None:
        return int(self._lib.PQbackendPID(self._pq))

    def database_name(self) -> str:
        return str(self._lib.PQdb(self._pq).decode())

    def database_config(self) -> DatabaseConfig:
        return Adapter.database_config(self)  # the URL's parts: nothing reads it here
