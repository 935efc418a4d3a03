"""The stand-in HTTP server: ArangoDB's documented HTTP API subset on 127.0.0.1.

A threaded ``http.server`` on a free port, so ``python-arango`` talks to it
over real sockets with its real requests. Requests are served one at a time
under the state's lock, except that a request waiting for another
transaction's exclusive lock releases it while it waits (as the server's
lock manager does). Any user name and password are accepted.

Example::

    with StandIn() as server:
        from arango import ArangoClient
        db = ArangoClient(hosts=server.url).db("_system", "root", "")
        db.create_collection("posts")
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from arango_standin.routes import Ctx, find_route
from arango_standin.state import ArangoError, State

_DB_PATH = re.compile(r"^/_db/([^/]+)(/.*)$")
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as python-arango's requests session expects
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the tests report failures themselves."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            status, body = self._dispatch(raw)
        except ArangoError as exc:
            status, body = exc.http, exc.body()
        except Exception as exc:  # a stand-in bug must show as a server error, not a hang
            status, body = 500, ArangoError(500, 4, f"stand-in internal error: {exc!r}").body()
        payload = b"" if self.command == "HEAD" else json.dumps(body).encode()
        self.send_response(status, _STATUS_TEXT.get(status))
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Server", "ArangoDB")
        self.end_headers()
        self.wfile.write(payload)

    def _dispatch(self, raw: bytes) -> tuple[int, Any]:
        split = urlsplit(self.path)
        path, db_name = unquote(split.path), "_system"
        if m := _DB_PATH.match(path):
            db_name, path = unquote(m.group(1)), m.group(2)
        if not path.startswith("/_api/"):
            raise ArangoError(404, 404, f"unknown path '{path}'")
        body = json.loads(raw) if raw.strip() else None
        query = dict(parse_qsl(split.query))
        state = self.server.state
        with state.cond:
            handler, args = find_route(self.command, path[len("/_api") :])
            db = state.database(db_name)
            trx = self._transaction(state)
            return handler(Ctx(state, db, tuple(unquote(a) for a in args), query, body, trx))

    def _transaction(self, state: State) -> Any:
        trx_id = self.headers.get("x-arango-trx-id")
        if trx_id is None:
            return None
        trx = state.transaction(trx_id)
        if trx.status != "running":
            raise ArangoError(404, 1655, f"transaction {trx_id} is {trx.status}")
        return trx

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: State


class StandIn:
    """Start and stop a stand-in server; ``url`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, write_lock_timeout: float = 900.0):
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = State(write_lock_timeout)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def state(self) -> State:
        return self._server.state

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def main() -> None:
    """``python -m arango_standin.server`` (from tests/): serve until Ctrl-C."""
    with StandIn() as server:
        print(f"ArangoDB stand-in on {server.url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
