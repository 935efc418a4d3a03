"""Fixtures that hand ArangoDB tests a server: a real one, or the stand-in.

``WHIMBREL_TEST_ARANGO_URL`` (``arangodb://user:pass@host:8529``, or
``http(s)://...``) names a real server; then the stand-in is not started and
every test gets a throwaway database on that server, dropped afterwards.
Without it, one stand-in per session (per xdist worker) serves all tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from arango_standin.server import StandIn

ENV = "WHIMBREL_TEST_ARANGO_URL"


@dataclass(frozen=True)
class ArangoServer:
    """Where a server is: its HTTP base URL and credentials."""

    http_url: str
    username: str = "root"
    password: str = ""
    standin: StandIn | None = None

    def whimbrel_url(self, database: str) -> str:
        """The ``arangodb://`` URL whimbrel is configured with for ``database``."""
        split = urlsplit(self.http_url)
        scheme = "arangodbs" if split.scheme == "https" else "arangodb"
        return f"{scheme}://{self.username}:{self.password}@{split.netloc}/{database}"

    def client_db(self, name: str) -> Any:
        from arango import ArangoClient

        client = ArangoClient(hosts=self.http_url)
        return client.db(name, username=self.username, password=self.password)


def _from_env(url: str) -> ArangoServer:
    split = urlsplit(url)
    scheme = {"arangodb": "http", "arangodbs": "https"}.get(split.scheme, split.scheme)
    host = split.hostname or "127.0.0.1"
    http_url = f"{scheme}://{host}:{split.port or 8529}"
    return ArangoServer(http_url, split.username or "root", split.password or "")


@pytest.fixture(scope="session")
def arango_server() -> Iterator[ArangoServer]:
    url = os.environ.get(ENV)
    if url:
        yield _from_env(url)
        return
    with StandIn() as standin:
        yield ArangoServer(standin.url, standin=standin)


@pytest.fixture
def arango_db_name(arango_server: ArangoServer) -> Iterator[str]:
    """A fresh database, dropped after the test."""
    name = f"whimbrel_test_{uuid.uuid4().hex[:12]}"
    system = arango_server.client_db("_system")
    system.create_database(name)
    try:
        yield name
    finally:
        system.delete_database(name, ignore_missing=True)


@pytest.fixture
def arango_db(arango_server: ArangoServer, arango_db_name: str) -> Any:
    """A python-arango ``StandardDatabase`` on a fresh database."""
    return arango_server.client_db(arango_db_name)


@pytest.fixture
def arango_url(arango_server: ArangoServer, arango_db_name: str) -> str:
    """The whimbrel URL (``arangodb://user:pass@host:port/db``) of a fresh database."""
    return arango_server.whimbrel_url(arango_db_name)
