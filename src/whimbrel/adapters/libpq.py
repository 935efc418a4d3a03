"""PostgreSQL through libpq itself, called with ``ctypes``: whimbrel's default session.

Importing psycopg costs about 0.15 s (its error classes, type adapters and
asyncio), more than a ``status`` of 10,000 migrations or a ``migrate`` with
nothing to do takes in all, and a third of what applying 500 migrations costs
beyond ``psql``'s own time. What the migrator sends needs none of it: SQL text,
sometimes with a few parameters, answered by rows of versions, names and
counts. So ``LibpqAdapter`` talks to libpq, the C library psycopg itself wraps,
and is what ``adapter_for`` (so ``Migrator.adapter``) gives for a PostgreSQL URL
(``PostgresAdapter.session_class``):

- statements without parameters go as one simple-protocol query, several
  statements of a batch included (``execute_batch``), as psycopg sends them;
  with parameters, one extended-protocol query (``%s`` and ``%(name)s``
  placeholders, as psycopg's);
- parameters that are ``None``, ``bool``, ``int``, ``float`` or ``str`` are
  sent as text with the type psycopg would give them; any other value (a date,
  ``Decimal``, bytes, a list, ``Jsonb``) is converted by psycopg's own adapters,
  and so is every result column other than booleans, integers and text, so
  ``repo().execute``/``repo().query`` give and take what they do through
  psycopg, importing it only then;
- the wait for an answer returns to Python every 0.1 s, so Ctrl-C and SIGTERM
  are handled while a long statement runs; the statement is cancelled on the
  server first (as psycopg does);
- server notices ("relation already exists, skipping") go to the ``whimbrel``
  logger at debug level instead of libpq's default, standard error.

libpq is found where psycopg's binary wheel ships it (``psycopg_binary.libs``)
or as the system's ``libpq.so.5``, and only when psycopg is installed too, so a
project without ``whimbrel[postgres]`` is refused as before. Where neither is
found, or ``WHIMBREL_LIBPQ=0`` is set, ``PostgresAdapter`` runs on psycopg's
connection instead; both pass the same integration tests.

Example::

    adapter = LibpqAdapter.open("postgresql://app@db/app", Settings())
    if adapter is not None:
        adapter.query("SELECT version FROM schema_migrations WHERE version > %s", (0,))
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from importlib.util import find_spec
from typing import Any

from whimbrel.adapters.base import KEEPALIVE, Adapter, DatabaseConfig, Settings, no_answer
from whimbrel.adapters.postgres import PostgresAdapter, error_text
from whimbrel.errors import DatabaseError

log = logging.getLogger("whimbrel")

_CONNECTION_OK = 0
_PGRES_TUPLES_OK = 2  # (0 empty query and 1 command are fine too: lower statuses)
_PGRES_COPY_OUT, _PGRES_COPY_IN, _PGRES_COPY_BOTH = 3, 4, 8
_PGRES_COPY = {_PGRES_COPY_OUT, _PGRES_COPY_IN, _PGRES_COPY_BOTH}
_PQTRANS_IDLE = 0
#: PQresultErrorField codes: SQLSTATE, primary message, detail, hint, statement position.
_SQLSTATE, _PRIMARY, _DETAIL, _HINT, _POSITION = (ord(c) for c in "CMDHP")
#: Result type OID -> text-to-Python conversion, for the types whimbrel itself reads
#: (bool, int8, int2, int4, oid; text, varchar, name, bpchar, "char", unknown). Any
#: other type goes through psycopg's loader for it (``_psycopg_loader``).
_CONVERT: dict[int, Callable[[bytes], Any]] = {
    16: b"t".__eq__,
    **{oid: int for oid in (20, 21, 23, 26)},
    **{oid: bytes.decode for oid in (25, 1043, 19, 1042, 18, 705)},
}
#: How often a wait for the server returns to Python (signals are handled then).
_WAIT_S = 0.1
#: After Ctrl-C or SIGTERM, how long to wait for the cancelled statement's answer.
_CANCEL_WAIT_S = 10.0

_NOTICE_PROCESSOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)


def _on_notice(_arg: int | None, message: bytes | None) -> None:
    log.debug("server: %s", (message or b"").decode(errors="replace").strip())


#: Kept for the life of the process: libpq calls it from any connection's queries.
_NOTICES = _NOTICE_PROCESSOR(_on_notice)

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


def _signatures() -> list[tuple[str, Any, list[Any]]]:
    p, s, i, u = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint
    return [
        ("PQconnectdbParams", p, [ctypes.POINTER(s), ctypes.POINTER(s), i]),
        ("PQstatus", i, [p]),
        ("PQerrorMessage", s, [p]),
        ("PQfinish", None, [p]),
        ("PQsocket", i, [p]),
        ("PQdb", s, [p]),
        ("PQuser", s, [p]),
        ("PQpass", s, [p]),
        ("PQhost", s, [p]),
        ("PQport", s, [p]),
        ("PQbackendPID", i, [p]),
        ("PQtransactionStatus", i, [p]),
        ("PQsetNoticeProcessor", p, [p, _NOTICE_PROCESSOR, p]),
        ("PQsendQuery", i, [p, s]),
        ("PQsendQueryParams", i, [p, s, i, ctypes.POINTER(u), ctypes.POINTER(s), p, p, i]),
        ("PQconsumeInput", i, [p]),
        ("PQisBusy", i, [p]),
        ("PQgetResult", p, [p]),
        ("PQresultStatus", i, [p]),
        ("PQresultErrorField", s, [p, i]),
        ("PQntuples", i, [p]),
        ("PQnfields", i, [p]),
        ("PQftype", u, [p, i]),
        ("PQgetisnull", i, [p, i, i]),
        ("PQgetvalue", s, [p, i, i]),
        ("PQclear", None, [p]),
        ("PQgetCancel", p, [p]),
        ("PQcancel", i, [p, s, i]),
        ("PQfreeCancel", None, [p]),
        ("PQputCopyEnd", i, [p, s]),
        ("PQgetCopyData", i, [p, ctypes.POINTER(p), i]),
        ("PQfreemem", None, [p]),
    ]


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
            for name, restype, argtypes in _signatures():
                fn = getattr(lib, name)
                fn.restype, fn.argtypes = restype, argtypes
        except (OSError, AttributeError):  # not there, or a libpq too old for a function
            continue
        _LIB = lib
        return lib
    return None


def available() -> bool:
    """Whether ``LibpqAdapter`` can be used here (libpq loads, ``WHIMBREL_LIBPQ`` is not 0)."""
    return os.environ.get("WHIMBREL_LIBPQ", "1") != "0" and _load() is not None


def _strings(values: Sequence[str | bytes | None]) -> Any:
    array = (ctypes.c_char_p * (len(values) + 1))()
    array[: len(values)] = [v.encode() if isinstance(v, str) else v for v in values]
    return array


def _placeholders(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> tuple[str, list[Any]]:
    """psycopg's ``%s`` / ``%(name)s`` placeholders as libpq's ``$1``…, and the values in order.

    >>> _placeholders("SELECT 1 WHERE a = %s AND b LIKE 'x%%' AND c = %s", (1, True))
    ("SELECT 1 WHERE a = $1 AND b LIKE 'x%' AND c = $2", [1, True])
    >>> _placeholders("SELECT %(a)s, %(b)s, %(a)s", {"a": 1, "b": 2})
    ('SELECT $1, $2, $1', [1, 2])
    """
    named = isinstance(params, Mapping)
    if not named and (isinstance(params, (str, bytes)) or not isinstance(params, Sequence)):
        raise DatabaseError(
            f"query parameters are a sequence or a mapping, not {type(params).__name__}: "
            "pass (value,) for a single one",
            statement=sql,
        )
    out: list[str] = []
    values: list[Any] = []
    numbers: dict[str, int] = {}
    pieces = sql.split("%")
    out.append(pieces[0])
    index = 1
    while index < len(pieces):
        piece = pieces[index]
        if piece == "" and index + 1 < len(pieces):  # "%%": a literal percent sign
            out.append("%" + pieces[index + 1])
            index += 2
            continue
        name = None
        if piece.startswith("(") and ")" in piece:
            name, piece = piece[1 : piece.index(")")], piece[piece.index(")") + 1 :]
        if piece[:1] not in ("s", "b", "t") or (name is not None) != named:
            raise DatabaseError(
                f"only %s, %b and %t placeholders (or %(name)s with a dict of parameters) "
                f"are allowed, got {'%' + (f'({name})' if name else '') + piece[:1]!r}; "
                "write a literal % as %%",
                statement=sql,
            )
        if name is None:
            if len(values) >= len(params):
                raise DatabaseError(
                    f"the query has more placeholders than the {len(params)} parameters given",
                    statement=sql,
                )
            values.append(params[len(values)])  # type: ignore[index]
            number = len(values)
        elif name in numbers:
            number = numbers[name]
        else:
            if name not in params:
                raise DatabaseError(f"no parameter named {name!r} was given", statement=sql)
            values.append(params[name])  # type: ignore[call-overload]
            number = numbers[name] = len(values)
        out.append(f"${number}{piece[1:]}")
        index += 1
    if not named and len(values) != len(params):
        raise DatabaseError(
            f"the query has {len(values)} placeholders but {len(params)} parameters were given",
            statement=sql,
        )
    return "".join(out), values


def _int_oid(value: int) -> int:
    """The type psycopg gives an int: the smallest of int2, int4, int8, else numeric."""
    for oid, bits in ((21, 15), (23, 31), (20, 63)):
        if -(1 << bits) <= value < (1 << bits):
            return oid
    return 1700


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _dump(values: list[Any]) -> tuple[list[int], list[str | bytes | None]]:
    """Parameters as text, with their type OIDs, as psycopg would send them."""
    oids: list[int] = []
    texts: list[str | bytes | None] = []
    for value in values:
        kind = type(value)
        if value is None:
            oids.append(0)
            texts.append(None)
        elif kind is bool:
            oids.append(16)
            texts.append("t" if value else "f")
        elif kind is int:
            oids.append(_int_oid(value))
            texts.append(str(value))
        elif kind is float:
            oids.append(701)
            texts.append(_float_text(value))
        elif kind is str:
            if "\x00" in value:
                raise DatabaseError(
                    "a parameter contains a NUL character (0x00), which PostgreSQL text cannot "
                    "hold: remove it, or pass bytes for a bytea column"
                )
            oids.append(0)  # unknown: the server infers it from the context, as with psycopg
            texts.append(value)
        else:
            return _psycopg_dump(values)
    return oids, texts


def _psycopg_dump(values: list[Any]) -> tuple[list[int], list[str | bytes | None]]:
    """Dates, ``Decimal``, bytes, lists, ``Jsonb``…: psycopg's own text dumpers."""
    from psycopg.adapt import PyFormat, Transformer

    transformer = Transformer()
    try:
        dumped = transformer.dump_sequence(values, [PyFormat.TEXT] * len(values))
    except Exception as exc:  # psycopg's ProgrammingError: no adapter for the type
        raise DatabaseError(f"cannot send a parameter: {exc}") from exc
    return list(transformer.types or ()), [None if d is None else bytes(d) for d in dumped]


_LOADERS: dict[int, Callable[[bytes], Any]] = {}


def _psycopg_loader(oid: int) -> Callable[[bytes], Any]:
    """psycopg's text loader for a result type (numeric, timestamps, json, arrays…)."""
    loader = _LOADERS.get(oid)
    if loader is None:
        from psycopg import pq
        from psycopg.adapt import Transformer

        loader = _LOADERS[oid] = Transformer().get_loader(oid, pq.Format.TEXT).load
    return loader


class LibpqAdapter(PostgresAdapter):
    """``PostgresAdapter`` talking to libpq directly (see the module)."""

    _pq: int | None = None

    @classmethod
    def open(cls, url: str, settings: Settings) -> LibpqAdapter | None:
        """A connected adapter, or None where libpq is not available (use psycopg then).

        A connection that fails raises ``DatabaseConnectionError`` as psycopg's would.
        """
        if not available():
            return None
        adapter = cls(url, settings)
        adapter.connect()
        return adapter

    def connect(self) -> None:
        lib = _load()
        if lib is None:
            raise DatabaseError("libpq could not be loaded: set WHIMBREL_LIBPQ=0 to use psycopg")
        self._lib = lib
        self._closing = threading.Lock()
        url = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
        options = {
            "dbname": url,  # expand_dbname: the URL itself, its query parameters included
            # libpq counts whole seconds, and at least 2.
            "connect_timeout": str(max(2, math.ceil(self.settings.connect_timeout))),
            "application_name": "whimbrel",
            "client_encoding": "UTF8",  # text is decoded as UTF-8, whatever the database's
            "keepalives": "1",
            **{f"keepalives_{k}": str(int(v)) for k, v in KEEPALIVE.items()},
        }
        conn = lib.PQconnectdbParams(_strings(list(options)), _strings(list(options.values())), 1)
        if lib.PQstatus(conn) != _CONNECTION_OK:
            reason = (lib.PQerrorMessage(conn) or b"").decode(errors="replace").strip()
            lib.PQfinish(conn)
            raise self.connection_error(reason.splitlines()[0] if reason else "no answer")
        lib.PQsetNoticeProcessor(conn, _NOTICES, None)
        self._pq = conn
        self._cancel = lib.PQgetCancel(conn)
        self._client_timeout = self.settings.client_timeout()
        self._abandoned = False
        self._configure()

    def close(self) -> None:
        with getattr(self, "_closing", threading.Lock()):
            conn, self._pq = self._pq, None
            if conn:
                self._lib.PQfreeCancel(self._cancel)
                self._lib.PQfinish(conn)

    def cancel(self) -> None:
        """libpq's cancel request, on its own connection: safe from another thread."""
        with getattr(self, "_closing", threading.Lock()):
            if self._pq:
                self._lib.PQcancel(self._cancel, ctypes.create_string_buffer(256), 256)

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self._run(sql, params) or []

    def _run(
        self, sql: str, params: Any, statements: int = 1, shown: str | None = None
    ) -> list[tuple[Any, ...]] | None:
        """Send ``sql`` and wait for its answer: the first result's rows (None for a command).

        Errors become ``DatabaseError`` naming ``shown`` (or ``sql``), with the SQLSTATE.
        """
        lib, conn = self._lib, self._pq
        named = shown or sql
        if "\x00" in sql:
            raise DatabaseError("the statement contains a NUL character (0x00)", statement=named)
        timeout = self._client_timeout
        if statements > 1:  # each statement of a batch may run up to statement_timeout
            timeout = self.settings.client_timeout(statements)
        if conn is None:
            raise DatabaseError("the connection is closed", statement=named)
        if params is None:
            sent = lib.PQsendQuery(conn, sql.encode())
        else:
            text, values = _placeholders(sql, params)
            oids, texts = _dump(values)
            types = (ctypes.c_uint * max(1, len(oids)))(*oids)
            sent = lib.PQsendQueryParams(
                conn, text.encode(), len(texts), types, _strings(texts), None, None, 0
            )
        if not sent:
            raise self._error(None, named, timeout, statements)
        results = self._results(timeout)
        try:
            failed = next((r for r in results if lib.PQresultStatus(r) > _PGRES_TUPLES_OK), None)
            if failed is not None or not results:
                if failed is not None and lib.PQresultStatus(failed) in _PGRES_COPY:
                    raise DatabaseError(
                        "COPY is not supported here: load the data with INSERT statements, "
                        "or run COPY from psql",
                        statement=named,
                    )
                raise self._error(failed, named, timeout, statements)
            first = results[0]
            return self._rows(first) if lib.PQresultStatus(first) == _PGRES_TUPLES_OK else None
        finally:
            for result in results:
                lib.PQclear(result)

    def _results(self, timeout: float | None) -> list[int]:
        """Every result of the query sent, waiting ``_WAIT_S`` at a time (see the module)."""
        lib, conn = self._lib, self._pq
        results: list[int] = []
        with self._watchdog(timeout):
            try:
                while True:
                    self._wait()  # False: the connection broke, and PQgetResult says how
                    result = lib.PQgetResult(conn)
                    if not result:
                        return results
                    results.append(result)
                    if lib.PQresultStatus(result) in _PGRES_COPY:
                        self._end_copy(lib.PQresultStatus(result))
            except BaseException:  # Ctrl-C, SIGTERM: stop the statement on the server too
                for result in results:
                    lib.PQclear(result)
                self._interrupted()
                raise

    def _wait(self, deadline: float | None = None) -> bool:
        """Read what the server sends until a result is complete, returning to Python
        every ``_WAIT_S`` (signals are handled then). False when the connection broke or
        ``deadline`` (``time.monotonic()``) came first."""
        lib, conn = self._lib, self._pq
        poller = None
        while lib.PQisBusy(conn):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            if poller is None:
                poller = select.poll()
                poller.register(lib.PQsocket(conn), select.POLLIN)
            poller.poll(_WAIT_S * 1000)
            if not lib.PQconsumeInput(conn):
                return False
        return True

    def _end_copy(self, status: int) -> None:
        """A COPY began (``repo().execute("COPY ... FROM STDIN")``): whimbrel has no data to
        give or take, so end it (the server then answers with an error or the end of the
        data) and keep the session usable; ``_run`` reports that COPY is not supported."""
        lib, conn = self._lib, self._pq
        if status == _PGRES_COPY_IN:
            lib.PQputCopyEnd(conn, b"whimbrel sends no COPY data")
        elif status == _PGRES_COPY_OUT:
            buffer = ctypes.c_void_p()
            while lib.PQgetCopyData(conn, ctypes.byref(buffer), 0) > 0:
                lib.PQfreemem(buffer)
        else:  # COPY BOTH (replication): nothing to end it with
            self._abandon()

    def _interrupted(self) -> None:
        """Cancel the running statement and read its answer, so the session stays usable
        for the rollback and the lock's release (psycopg does the same)."""
        lib, conn = self._lib, self._pq
        self.cancel()
        deadline = time.monotonic() + _CANCEL_WAIT_S
        try:
            while True:
                if not self._wait(deadline):
                    if time.monotonic() >= deadline:
                        self._abandon()  # no answer to the cancel: give the session up
                    return
                result = lib.PQgetResult(conn)
                if not result:
                    return
                lib.PQclear(result)
        except BaseException:  # a second signal: leave at once
            self._abandon()

    def _rows(self, res: int) -> list[tuple[Any, ...]]:
        lib = self._lib
        value, isnull = lib.PQgetvalue, lib.PQgetisnull
        convert = []
        for f in range(lib.PQnfields(res)):
            oid = lib.PQftype(res, f)
            convert.append((f, _CONVERT.get(oid) or _psycopg_loader(oid)))
        rows = []
        for r in range(lib.PQntuples(res)):
            row = []
            for f, to_python in convert:
                raw = value(res, r, f)
                # libpq gives NULL as "", so only an empty value needs the second call
                row.append(None if not raw and isnull(res, r, f) else to_python(raw))
            rows.append(tuple(row))
        return rows

    def _error(
        self, res: int | None, sql: str, timeout: float | None, statements: int
    ) -> DatabaseError:
        lib = self._lib
        if self._abandoned:
            message = no_answer(timeout or 0, self.settings, self.url, statements)
            return DatabaseError(message, statement=sql)

        def field(code: int) -> str | None:
            value = lib.PQresultErrorField(res, code) if res else None
            return value.decode(errors="replace").strip() if value else None

        reason = (lib.PQerrorMessage(self._pq) or b"").decode(errors="replace").strip()
        message = field(_PRIMARY) or reason or "the server sent no answer"
        text = error_text(message, field(_DETAIL), field(_HINT), field(_POSITION))
        return DatabaseError(text, statement=sql, sqlstate=field(_SQLSTATE))

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

    def _socket(self) -> int:
        return int(self._lib.PQsocket(self._pq))

    def _closed(self) -> bool:
        return not self._pq or self._lib.PQstatus(self._pq) != _CONNECTION_OK

    def _in_transaction(self) -> bool:
        return bool(self._lib.PQtransactionStatus(self._pq) != _PQTRANS_IDLE)

    def session_id(self) -> int | None:
        return int(self._lib.PQbackendPID(self._pq))

    def database_name(self) -> str:
        return str(self._lib.PQdb(self._pq).decode())

    def database_config(self) -> DatabaseConfig:
        """What libpq connected to: the URL's parts, with its defaults filled in."""
        lib, conn = self._lib, self._pq
        if not conn:
            return Adapter.database_config(self)

        def text(fn: Callable[[int], bytes | None]) -> str:
            return (fn(conn) or b"").decode()

        return DatabaseConfig(
            "postgresql",
            text(lib.PQhost),
            int(text(lib.PQport) or 5432),
            text(lib.PQdb),
            text(lib.PQuser),
            text(lib.PQpass) or None,
        )
