"""The same N migrations written for each tool, and the command that applies them.

Migration ``i`` creates ``t_<i>`` (``id`` key, ``name`` string, ``created_at``
timestamp) and an index on ``name``, in its own transaction with its version
row. whimbrel and alembic get Python files, yoyo and the floor SQL in the
database's dialect (see ``backends``).

Example::

    project = write_project(WORK / "postgres-500", backend, 500)
    argv = TOOLS["whimbrel"].command(project, db)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from whimbench.backends import FIRST_VERSION, Backend, Database, table

VENV_BIN = Path(sys.executable).parent


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def stem(i: int) -> str:
    return f"{FIRST_VERSION + i}_create_{table(i)}"


WHIMBREL_MIGRATION = """from whimbrel.migration import *


def change():
    with create(table("{t}")):
        add("name", "string")
        add("created_at", "utc_datetime")
    create(index("{t}", ["name"]))
"""


def write_whimbrel(root: Path, n: int, prefixes: Sequence[str] = ()) -> None:
    """``migrations/`` (or, with prefixes, ``tenant_migrations/``) and ``whimbrel.toml``."""
    folder = "tenant_migrations" if prefixes else "migrations"
    (root / "migrations").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        write(root / folder / f"{stem(i)}.py", WHIMBREL_MIGRATION.format(t=table(i)))
    config = 'migrations_path = "migrations"\n'
    if prefixes:
        names = ", ".join(f'"{p}"' for p in prefixes)
        config += f'tenant_migrations_path = "tenant_migrations"\nprefixes = [{names}]\n'
    write(root / "whimbrel.toml", config)


ALEMBIC_INI = """[alembic]
script_location = %(here)s
"""

ALEMBIC_ENV = """from alembic import context
from sqlalchemy import create_engine, pool

url = context.get_x_argument(as_dictionary=True)["url"]
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""

ALEMBIC_MIGRATION = """import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {previous!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "{t}",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255)),
        sa.Column("created_at", sa.DateTime),
    )
    op.create_index("{t}_name_index", "{t}", ["name"])


def downgrade() -> None:
    op.drop_index("{t}_name_index", table_name="{t}")
    op.drop_table("{t}")
"""


def write_alembic(root: Path, n: int) -> None:
    write(root / "alembic.ini", ALEMBIC_INI)
    write(root / "env.py", ALEMBIC_ENV)
    previous: str | None = None
    for i in range(n):
        revision = str(FIRST_VERSION + i)
        text = ALEMBIC_MIGRATION.format(revision=revision, previous=previous, t=table(i))
        write(root / "versions" / f"{stem(i)}.py", text)
        previous = revision


def write_yoyo(root: Path, backend: Backend, n: int) -> None:
    previous: str | None = None
    for i in range(n):
        # `yoyo new` chains each migration to the previous one the same way.
        header = f"-- depends: {previous}\n" if previous else ""
        body = "".join(f"{statement};\n" for statement in backend.ddl(i))
        write(root / "migrations" / f"{stem(i)}.sql", header + body)
        previous = stem(i)


@dataclass(frozen=True)
class Tool:
    """A tool's name and the command applying a project's migrations to a database."""

    name: str
    command: Callable[[Path, Backend, Database], list[str]]
    #: The sub-folder of the project holding this tool's files.
    folder: str


def whimbrel_bare(*args: str) -> list[str]:
    """The venv's ``whimbrel`` with ``args``."""
    return [str(VENV_BIN / "whimbrel"), *args]


def whimbrel_argv(project: Path, *args: str) -> list[str]:
    """``whimbrel -q ARGS --config <project>/whimbrel/whimbrel.toml``."""
    config = project / "whimbrel" / "whimbrel.toml"
    return whimbrel_bare("-q", *args, "--config", str(config))


def _whimbrel(project: Path, backend: Backend, db: Database) -> list[str]:
    return whimbrel_argv(project, "migrate", "--database-url", db.url)


def _alembic(project: Path, backend: Backend, db: Database) -> list[str]:
    ini = project / "alembic" / "alembic.ini"
    return [str(VENV_BIN / "alembic"), "-c", str(ini), "-x", f"url={db.sa_url}", "upgrade", "head"]


def _yoyo(project: Path, backend: Backend, db: Database) -> list[str]:
    folder = project / "yoyo" / "migrations"
    return [
        str(VENV_BIN / "yoyo"), "apply", "--batch", "--no-config-file",
        "--database", db.yoyo_url, str(folder),
    ]  # fmt: skip


def _floor(project: Path, backend: Backend, db: Database) -> list[str]:
    return backend.floor_argv(db, project / "floor" / "floor.sql")


FLOOR = Tool("floor", _floor, "floor")
WHIMBREL = Tool("whimbrel", _whimbrel, "whimbrel")
ALEMBIC = Tool("alembic", _alembic, "alembic")
YOYO = Tool("yoyo", _yoyo, "yoyo")
ALL_TOOLS = (FLOOR, WHIMBREL, ALEMBIC, YOYO)


def write_project(root: Path, backend: Backend, n: int, tools: Sequence[Tool]) -> Path:
    """Write the files of ``tools`` for N migrations under ``root`` (once per backend and N)."""
    names = {t.name for t in tools}
    marker = root / f".written-{'-'.join(sorted(names))}"
    if marker.exists():
        return root
    if "floor" in names:
        write(root / "floor" / "floor.sql", backend.floor_script(n))
    if "whimbrel" in names:
        write_whimbrel(root / "whimbrel", n)
    if "alembic" in names:
        write_alembic(root / "alembic", n)
    if "yoyo" in names:
        write_yoyo(root / "yoyo", backend, n)
    marker.touch()
    return root


def write_tenant_project(
    root: Path, backend: Backend, tenants: int, per_tenant: int, jobs: int
) -> Path:
    """whimbrel's tenant project and the floor's scripts for ``tenants`` schemas.

    ``floor/tenants/<prefix>.sql`` holds one tenant's SQL (its schema, versions
    table and migrations, each in its own transaction with its version row);
    ``floor/floor.sql`` is all of them in order, for the sequential floor. The
    parallel floor runs ``jobs`` clients at once (``pool_listing``).
    """
    prefixes = [f"tenant_{k:04d}" for k in range(tenants)]
    scripts = [Path("floor", "tenants", f"{p}.sql") for p in prefixes]
    texts = [backend.floor_script(per_tenant, [p]) for p in prefixes]
    for script, text in zip(scripts, texts, strict=True):
        write(root / script, text)
    write(root / "floor" / "floor.sql", "".join(texts))
    write_pool(root, backend, scripts, jobs)
    write_whimbrel(root / "whimbrel", per_tenant, prefixes)
    return root


def pool_listing(root: Path, jobs: int) -> Path:
    """The list of the parallel floor's worker scripts (see ``Backend.floor_pool_argv``)."""
    return root / "floor" / f"jobs-{jobs}" / "workers.txt"


def write_pool(root: Path, backend: Backend, scripts: Sequence[Path], jobs: int) -> None:
    """``jobs`` worker scripts, worker ``k`` running tenants k, k + jobs, ... in turn.

    One client (one connection) per worker, as whimbrel's ``--jobs`` keeps one
    connection per worker: a client per tenant would cost a process start and a
    connection each (~25 ms of CPU with psql, as much as several migrations). The
    tenants are all the same size, so the fixed round-robin shares them as evenly
    as taking the next one would. Paths are relative to ``root``, the clients'
    working directory.
    """
    listing = pool_listing(root, jobs)
    workers = [scripts[k::jobs] for k in range(min(jobs, len(scripts)))]
    names = []
    for k, own in enumerate(workers):
        worker = listing.parent / f"worker_{k}.sql"
        write(worker, "".join(f"{backend.include_command} {s}\n" for s in own))
        names.append(str(worker.relative_to(root)))
    write(listing, "".join(f"{name}\n" for name in names))
