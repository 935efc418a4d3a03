"""A TCP proxy on 127.0.0.1 that can go silent, for network-fault tests.

Between whimbrel and a local server it forwards bytes both ways until told to
stop; from then on it keeps every connection open and drops what it reads, as
a path through a dead router does (no reset, no answer). New connections are
accepted and held without a word, as a server that never greets. It only ever
listens on and connects to 127.0.0.1.

Example::

    with SilentProxy(5432, silence_after=b"pg_sleep") as proxy:
        url = proxy.url(pg_url)   # the same database, through the proxy
"""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit, urlunsplit

LOOPBACK = "127.0.0.1"


class SilentProxy:
    """Forwards to ``127.0.0.1:port``; silent from the start with ``greet=False``."""

    def __init__(self, port: int, *, silence_after: bytes | None = None, greet: bool = True):
        self.target = (LOOPBACK, port)
        self.silence_after = silence_after
        self.silent = threading.Event()
        if not greet:
            self.silent.set()
        self.listener = socket.create_server((LOOPBACK, 0))
        self.port = self.listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self.listener]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        """``url`` pointed at the proxy instead of the server."""
        parts = urlsplit(url)
        user = parts.netloc.rpartition("@")[0]
        netloc = f"{user}@{LOOPBACK}:{self.port}" if user else f"{LOOPBACK}:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            if self.silent.is_set():
                threading.Thread(target=self._drain, args=(client,), daemon=True).start()
                continue
            upstream = socket.create_connection(self.target)
            self._sockets.append(upstream)
            for src, dst, watch in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(src, dst, watch), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, watch: bool) -> None:
        """Copy ``src`` to ``dst`` until silence; then read and drop."""
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if self.silent.is_set():
                continue
            try:
                dst.sendall(data)
            except OSError:
                return
            if watch and self.silence_after is not None and self.silence_after in data:
                self.silent.set()  # the statement reached the server; its answer will not

    def _drain(self, sock: socket.socket) -> None:
        while True:
            try:
                if not sock.recv(65536):
                    return
            except OSError:
                return

    def close(self) -> None:
        self._closed.set()
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked on it
            except OSError:
                pass
            sock.close()

    def __enter__(self) -> SilentProxy:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
