"""A TimescaleDB server for the tests: $WHIMBREL_TEST_TIMESCALE_URL, else PGlite.

Like tests/dbs.py this imports no pytest, so scripts can use it too. The only
TimescaleDB obtainable on a plain machine is PGlite's WASM build with the
extension, served over the PostgreSQL wire protocol by tests/timescale/server.mjs
(its npm packages are pinned in tests/timescale/package-lock.json and installed
by `make test`). A real TimescaleDB, e.g. a CI service container, is used
instead when $WHIMBREL_TEST_TIMESCALE_URL names it.

PGlite has one database, so each test gets a schema of its own; and it has one
backend session shared by every client, so a setting made on one connection
holds on all. The schema is therefore given twice: in the URL's `options`
(what a real server honours per connection) and by SET on the shared session
(what PGlite honours).

Example::

    server = discover_timescale()
    with fresh_schema(server.admin_url, "whimbrel_t_1") as url:
        ...  # migrate url; tables land in schema whimbrel_t_1
    server.stop()
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dbs import DatabaseUnavailable, Server, describe

TIMESCALE_URL_ENV = "WHIMBREL_TEST_TIMESCALE_URL"
SERVER_DIR = Path(__file__).parent / "timescale"
#: A database dump with the extension created, made by the first server started; it
#: lives in node_modules so that reinstalling the packages (npm ci) discards it.
TEMPLATE = SERVER_DIR / "node_modules" / ".whimbrel-timescaledb.tar"
#: PGlite boots in 3 s of CPU from the template, 8 s without; a loaded machine takes longer.
START_TIMEOUT_S = 120.0
LABEL = "TimescaleDB"


def connect(url: str) -> Any:
    """An autocommit connection without server-side prepares (see the PostgreSQL adapter)."""
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10, prepare_threshold=None)


def _with_extension(url: str) -> None:
    with closing(connect(url)) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")


def start_pglite() -> Server:
    """Start tests/timescale/server.mjs on a free port; stop() ends it by its process id."""
    node = shutil.which("node")
    script = SERVER_DIR / "server.mjs"
    if node is None:
        raise RuntimeError("node is not installed (the PGlite TimescaleDB server runs on it)")
    if not (SERVER_DIR / "node_modules" / "@unni-craftsman" / "pglite").is_dir():
        raise RuntimeError(f"its npm packages are not installed: run `cd {SERVER_DIR} && npm ci`")
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed in stop()
    proc = subprocess.Popen(
        [node, str(script), "--port", "0", "--template", str(TEMPLATE)],
        cwd=SERVER_DIR,
        stdin=subprocess.PIPE,  # the server exits when this closes, even if we are killed
        stdout=subprocess.PIPE,
        stderr=log,
    )
    port = _read_port(proc)

    def stop() -> None:
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.terminate()
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        finally:
            log.close()

    url = f"postgresql://postgres:pglite-test-password@127.0.0.1:{port}/postgres?sslmode=disable"
    try:
        _with_extension(url)
    except BaseException:
        stop()
        raise
    return Server(url, f"PGlite TimescaleDB (pid {proc.pid}, port {port})", stop)


def _read_port(proc: subprocess.Popen[bytes]) -> int:
    """Wait for the server's "LISTENING <port>" line."""
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        lines.append(proc.stdout.readline().decode(errors="replace").strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    if not lines or not lines[0].startswith("LISTENING "):
        proc.kill()
        proc.wait()
        got = lines[0] if lines else f"nothing within {START_TIMEOUT_S:.0f}s"
        raise RuntimeError(f"the server did not start (exit {proc.returncode}): {got}")
    return int(lines[0].split()[1])


def discover_timescale(env: Mapping[str, str] = os.environ) -> Server:
    """$WHIMBREL_TEST_TIMESCALE_URL (a real TimescaleDB), else a PGlite server started here."""
    attempts: list[str] = []
    configured = env.get(TIMESCALE_URL_ENV, "").strip()
    if configured:
        try:
            _with_extension(configured)
            return Server(configured, f"${TIMESCALE_URL_ENV} ({describe(configured)})")
        except Exception as exc:
            attempts.append(f"${TIMESCALE_URL_ENV} at {describe(configured)}: {exc}")
            raise DatabaseUnavailable(LABEL, attempts) from exc
    started = time.monotonic()
    try:
        server = start_pglite()
    except Exception as exc:
        attempts.append(f"PGlite server ({SERVER_DIR / 'server.mjs'}): {exc}")
        raise DatabaseUnavailable(LABEL, attempts) from exc
    server.origin += f", started in {time.monotonic() - started:.1f}s"
    return server


def schema_url(admin_url: str, schema: str) -> str:
    """The admin URL with `search_path` set to the schema (then public, for the extension)."""
    options = quote(f"-csearch_path={schema},public", safe="")
    return f"{admin_url}{'&' if '?' in admin_url else '?'}options={options}"


@contextmanager
def fresh_schema(admin_url: str, schema: str) -> Iterator[str]:
    """A new schema holding everything the test makes; dropped with it afterwards."""
    with closing(connect(admin_url)) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}", public')  # PGlite: the shared session
    try:
        yield schema_url(admin_url, schema)
    finally:
        with closing(connect(admin_url)) as conn:
            if conn.info.transaction_status != 0:
                conn.execute("ROLLBACK")
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.execute("SET search_path TO public")
