"""The three databases: finding a server, fresh databases, the floor client and its SQL.

Each ``Backend`` writes the SQL that whimbrel itself sends for the benchmark
migration (as ``whimbrel migrate --log-sql`` shows it: the table, its index,
the version row and the checksum row), so the floor runs the same statements
in the same transactions, through the database's own command-line client, and
nothing else.

Example::

    backend = Postgres("postgresql://postgres@127.0.0.1:5432/postgres")
    with backend.fresh("psql") as db:
        subprocess.run(backend.floor_argv(db, Path("floor.sql")), check=True)
        backend.count_objects(db)          # (tables, indexes) named t_<i>
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import sys
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # tests/dbs.py: server discovery shared with the tests

import dbs  # noqa: E402

FIRST_VERSION = 20260101000001


class ToolError(Exception):
    """A tool could not run or left the wrong schema; the message is one line."""


@dataclass(frozen=True)
class Database:
    """One throwaway database: whimbrel's URL, SQLAlchemy's, yoyo's, and the SQLite file."""

    url: str
    sa_url: str
    yoyo_url: str
    path: Path | None = None


def table(i: int) -> str:
    return f"t_{i}"


class Backend(ABC):
    """A database kind: where its server is, its floor client and the SQL whimbrel sends."""

    name: str
    floor_tool: str
    transactional_ddl = True
    quote_char = '"'
    #: The floor client's command running another script, its path relative to the
    #: client's working directory (the project folder; see ``floor_pool_argv``).
    include_command = "\\i"

    def __init__(self) -> None:
        self.unavailable: str | None = None

    def close(self) -> None:  # noqa: B027 - most backends start nothing
        """Stop what ``__init__`` started (an embedded server)."""

    @abstractmethod
    @contextmanager
    def fresh(self, tag: str) -> Iterator[Database]:
        """A new empty database for one run, removed afterwards."""

    @abstractmethod
    def floor_argv(self, db: Database, script: Path) -> list[str]:
        """The command-line client running ``script`` against ``db``."""

    def floor_pool_argv(self, db: Database, listing: Path, jobs: int) -> list[str]:
        """``jobs`` floor clients at once, each running one script named in ``listing``.

        GNU xargs is the pool: it starts the client once per line of ``listing``
        (one path a line, taken literally), at most ``jobs`` at a time, and exits
        non-zero (123) when any of them did. It costs next to nothing, where a
        Python pool would add its interpreter's start-up to the floor.
        """
        pool = ["xargs", "-d", "\\n", "-a", str(listing), "-P", str(jobs), "-I", "{}"]
        return [*pool, *self.floor_argv(db, Path("{}"))]

    @abstractmethod
    def connect(self, db: Database) -> Any:
        """An autocommit DB-API connection, for checks and seeding only (never timed)."""

    # -- the SQL whimbrel sends (see `whimbrel migrate --dry-run`) -----------------------

    def q(self, name: str, prefix: str | None = None) -> str:
        quoted = f"{self.quote_char}{name}{self.quote_char}"
        return f"{self.q(prefix)}.{quoted}" if prefix else quoted

    @abstractmethod
    def create_table_sql(self, i: int, prefix: str | None) -> str: ...

    def ddl(self, i: int, prefix: str | None = None) -> list[str]:
        """The statements of migration ``i``: its table and an index on ``name``."""
        t = table(i)
        return [
            self.create_table_sql(i, prefix),
            f"CREATE INDEX {self.q(t + '_name_index')} ON {self.q(t, prefix)} ({self.q('name')})",
        ]

    @abstractmethod
    def versions_table_sql(self, prefix: str | None = None) -> str: ...

    @abstractmethod
    def now_sql(self) -> str: ...

    def version_rows_sql(self, versions: Sequence[int], prefix: str | None = None) -> str:
        rows = ", ".join(f"({v}, {self.now_sql()})" for v in versions)
        columns = f"({self.q('version')}, {self.q('inserted_at')})"
        return f"INSERT INTO {self.q('schema_migrations', prefix)} {columns} VALUES {rows}"

    #: "Insert, or replace the row with this key", as whimbrel writes the checksum row;
    #: None is PostgreSQL's INSERT ... ON CONFLICT DO UPDATE.
    replace_verb: str | None = None

    def checksums_table_sql(self, prefix: str | None = None) -> str:
        q = self.q
        return (
            f"CREATE TABLE IF NOT EXISTS {q('schema_migrations_checksums', prefix)} "
            f"({q('version')} bigint PRIMARY KEY, {q('checksum')} varchar(64) NOT NULL, "
            f"{q('algorithm')} varchar(16) NOT NULL)"
        )

    def checksum_row_sql(self, version: int, prefix: str | None = None) -> str:
        q = self.q
        table = q("schema_migrations_checksums", prefix)
        columns = f"({q('version')}, {q('checksum')}, {q('algorithm')})"
        digest = hashlib.sha256(str(version).encode()).hexdigest()
        values = f"({version}, '{digest}', 'text-v1')"
        if self.replace_verb:
            return f"{self.replace_verb} {table} {columns} VALUES {values}"
        return (
            f"INSERT INTO {table} {columns} VALUES {values} ON CONFLICT ({q('version')}) "
            f"DO UPDATE SET {q('checksum')} = EXCLUDED.{q('checksum')}, "
            f"{q('algorithm')} = EXCLUDED.{q('algorithm')}"
        )

    def floor_script(self, n: int, prefixes: Sequence[str | None] = (None,)) -> str:
        """Every migration in its own transaction with its version row, as whimbrel runs them."""
        chunks: list[str] = []
        for prefix in prefixes:
            if prefix is not None:
                chunks.append(f"CREATE SCHEMA {self.q(prefix)};\n")
            chunks.append(self.versions_table_sql(prefix) + ";\n")
            chunks.append(self.checksums_table_sql(prefix) + ";\n")
            for i in range(n):
                version = FIRST_VERSION + i
                body = [
                    *self.ddl(i, prefix),
                    self.version_rows_sql([version], prefix),
                    self.checksum_row_sql(version, prefix),
                ]
                if self.transactional_ddl:
                    body = ["BEGIN", *body, "COMMIT"]
                chunks.append("".join(f"{s};\n" for s in body))
        return "".join(chunks)

    # -- checks ----------------------------------------------------------------------------

    @abstractmethod
    def count_objects(self, db: Database) -> tuple[int, int]:
        """How many ``t_<i>`` tables and ``t_<i>_name_index`` indexes exist (all schemas)."""

    def check(self, db: Database, expected: int) -> None:
        found = self.count_objects(db)
        if found != (expected, expected):
            raise ToolError(
                f"expected {expected} tables and indexes, found {found[0]} and {found[1]}"
            )

    def execute(self, db: Database, statements: Sequence[str]) -> None:
        with closing(self.connect(db)) as conn:
            cursor = conn.cursor()
            for statement in statements:
                cursor.execute(statement)
            if not isinstance(conn, sqlite3.Connection):
                conn.commit()

    def scalar_rows(self, db: Database, sql: str) -> list[Any]:
        with closing(self.connect(db)) as conn:
            cursor = conn.cursor()
            cursor.execute(sql)
            return list(cursor.fetchall())


class _ServerBackend(Backend):
    """PostgreSQL and MySQL: a server found by tests/dbs.py, one database per run."""

    engine: dbs.Engine

    def __init__(self, admin_url: str | None) -> None:
        super().__init__()
        self.server: dbs.Server | None = None
        self.admin_url = admin_url or ""
        if not admin_url:
            try:
                self.server = self.discover()
                self.admin_url = self.server.admin_url
            except dbs.DatabaseUnavailable as exc:
                self.unavailable = " ".join(str(exc).split())
        if shutil.which(self.floor_tool) is None and self.unavailable is None:
            self.unavailable = f"{self.floor_tool} (the floor) is not on PATH"

    @abstractmethod
    def discover(self) -> dbs.Server: ...

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()

    def connect(self, db: Database) -> Any:
        return self.engine.connect(db.url)

    @contextmanager
    def fresh(self, tag: str) -> Iterator[Database]:
        name = f"whimbrel_bench_{tag}_{uuid.uuid4().hex[:8]}"
        url = dbs.create_database(self.engine, self.admin_url, name)
        try:
            yield self.database(url)
        finally:
            # On PostgreSQL (15+) DROP DATABASE forces a checkpoint, so the next run
            # starts with none of this run's dirty pages left to flush (an explicit
            # CHECKPOINT used to be needed: without it psql ranged from 1.4 to 5.1 s).
            dbs.drop_database(self.engine, self.admin_url, name)

    @abstractmethod
    def database(self, url: str) -> Database: ...


class Postgres(_ServerBackend):
    name = "postgres"
    floor_tool = "psql"
    engine = dbs.POSTGRES

    def discover(self) -> dbs.Server:
        return dbs.discover_postgres()

    def database(self, url: str) -> Database:
        sa = "postgresql+psycopg" + url[url.index("://") :]
        return Database(url, sa, sa)

    def floor_argv(self, db: Database, script: Path) -> list[str]:
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script), db.url]

    def create_table_sql(self, i: int, prefix: str | None) -> str:
        q = self.q
        return (
            f"CREATE TABLE {q(table(i), prefix)} ({q('id')} bigserial, {q('name')} varchar(255), "
            f"{q('created_at')} timestamp(0), PRIMARY KEY ({q('id')}))"
        )

    def versions_table_sql(self, prefix: str | None = None) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.q('schema_migrations', prefix)} "
            '("version" bigint PRIMARY KEY, "inserted_at" timestamp(0))'
        )

    def now_sql(self) -> str:
        return "(now() AT TIME ZONE 'utc')"

    def count_objects(self, db: Database) -> tuple[int, int]:
        rows = self.scalar_rows(
            db,
            r"""SELECT
                 (SELECT count(*) FROM pg_tables WHERE tablename LIKE 't\_%'),
                 (SELECT count(*) FROM pg_indexes WHERE indexname LIKE 't\_%\_name\_index')""",
        )
        return int(rows[0][0]), int(rows[0][1])


class MySQL(_ServerBackend):
    name = "mysql"
    floor_tool = "mariadb" if shutil.which("mariadb") else "mysql"
    engine = dbs.MYSQL
    transactional_ddl = False  # DDL commits implicitly: each statement autocommits
    quote_char = "`"
    replace_verb = "REPLACE INTO"
    include_command = "source"

    def discover(self) -> dbs.Server:
        return dbs.discover_mysql()

    def database(self, url: str) -> Database:
        rest = url[url.index("://") :]
        return Database(url, "mysql+pymysql" + rest, "mysql" + rest)

    def floor_argv(self, db: Database, script: Path) -> list[str]:
        parts = urlsplit(db.url)
        argv = [self.floor_tool, "--batch", "-h", parts.hostname or "127.0.0.1"]
        argv += ["-P", str(parts.port or 3306), "-u", unquote(parts.username or "root")]
        if parts.password:
            argv.append(f"--password={unquote(parts.password)}")
        return [*argv, unquote(parts.path.lstrip("/")), "-e", f"source {script}"]

    def create_table_sql(self, i: int, prefix: str | None) -> str:
        q = self.q
        return (
            f"CREATE TABLE {q(table(i), prefix)} ({q('id')} bigint unsigned not null "
            f"auto_increment, {q('name')} varchar(255), {q('created_at')} datetime, "
            f"PRIMARY KEY ({q('id')})) ENGINE = InnoDB"
        )

    def versions_table_sql(self, prefix: str | None = None) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.q('schema_migrations', prefix)} "
            "(`version` bigint PRIMARY KEY, `inserted_at` datetime)"
        )

    def now_sql(self) -> str:
        return "UTC_TIMESTAMP()"

    def count_objects(self, db: Database) -> tuple[int, int]:
        rows = self.scalar_rows(
            db,
            r"""SELECT
                 (SELECT count(*) FROM information_schema.tables
                   WHERE table_schema = DATABASE() AND table_name LIKE 't\_%'),
                 (SELECT count(DISTINCT table_name, index_name) FROM information_schema.statistics
                   WHERE table_schema = DATABASE() AND index_name LIKE 't\_%\_name\_index')""",
        )
        return int(rows[0][0]), int(rows[0][1])


class SQLite(Backend):
    """A file per run, in ``directory`` (``/dev/shm`` takes the disk out of the figures)."""

    name = "sqlite"
    include_command = ".read"
    replace_verb = "INSERT OR REPLACE INTO"

    def __init__(self, directory: Path, label: str = "sqlite") -> None:
        super().__init__()
        self.name = label
        self.directory = directory
        # Without the sqlite3 client, Python's sqlite3.executescript is the floor,
        # and the tool column says so.
        self.floor_tool = "sqlite3" if shutil.which("sqlite3") else "py-sqlite3"

    @contextmanager
    def fresh(self, tag: str) -> Iterator[Database]:
        self.directory.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"{tag}-", dir=self.directory))
        path = scratch / "bench.db"
        try:
            yield Database(f"sqlite:///{path}", f"sqlite:///{path}", f"sqlite:///{path}", path)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def floor_argv(self, db: Database, script: Path) -> list[str]:
        if self.floor_tool == "sqlite3":
            return ["sqlite3", "-bail", str(db.path), f".read {script}"]
        code = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.executescript(open(sys.argv[2]).read())"
        )
        return [sys.executable, "-c", code, str(db.path), str(script)]

    def connect(self, db: Database) -> Any:
        return sqlite3.connect(str(db.path), isolation_level=None)

    def create_table_sql(self, i: int, prefix: str | None) -> str:
        q = self.q
        return (
            f"CREATE TABLE {q(table(i), prefix)} ({q('id')} INTEGER PRIMARY KEY AUTOINCREMENT, "
            f"{q('name')} TEXT, {q('created_at')} TEXT)"
        )

    def versions_table_sql(self, prefix: str | None = None) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.q('schema_migrations', prefix)} "
            '("version" BIGINT PRIMARY KEY, "inserted_at" TEXT)'
        )

    def now_sql(self) -> str:
        return "CURRENT_TIMESTAMP"

    def count_objects(self, db: Database) -> tuple[int, int]:
        rows = self.scalar_rows(
            db,
            r"""SELECT
                 (SELECT count(*) FROM sqlite_master
                   WHERE type = 'table' AND name LIKE 't\_%' ESCAPE '\'),
                 (SELECT count(*) FROM sqlite_master
                   WHERE type = 'index' AND name LIKE 't\_%\_name\_index' ESCAPE '\')""",
        )
        return int(rows[0][0]), int(rows[0][1])


def server_version(backend: Backend) -> str:
    """One line naming the server, for the report's header."""
    if backend.unavailable:
        return f"{backend.name}: not available ({backend.unavailable})"
    if isinstance(backend, SQLite):
        return f"{backend.name}: SQLite {sqlite3.sqlite_version} in {backend.directory}"
    assert isinstance(backend, _ServerBackend)
    try:
        with closing(backend.engine.connect(backend.admin_url)) as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT version()")
            version = str(cursor.fetchone()[0]).split(" on ")[0]
    except Exception as exc:  # noqa: BLE001 - the header only
        version = f"version unknown ({exc})"
    return f"{backend.name}: {version} at {dbs.describe(backend.admin_url)}"
