"""Apply-time benchmark: whimbrel against alembic, yoyo-migrations and a plain psql script.

Generates N identical migrations for every tool into ``bench/.work/`` (deleted and
recreated on each run), applies them to a fresh PostgreSQL database per tool and run,
and prints the wall time of each tool's whole process next to the psql baseline.

Each migration creates ``t_<i>`` (``id bigserial`` primary key, ``name text``,
``created_at timestamptz``) plus an index on ``name``, in its own transaction, and
records its version.

It also times a no-op ``whimbrel migrate`` (everything already applied) and
``whimbrel --help``, and checks them against the project's targets.

Run it from the repository root with the project's venv (``make bench`` does this)::

    .venv/bin/python bench/run.py                 # N=500, best of 1
    .venv/bin/python bench/run.py --n 20 --repeat 3
    .venv/bin/python bench/run.py --json          # machine-readable results on stdout

The server comes from ``--admin-url``, or else the ``WHIMBREL_BENCH_PG_URL`` environment
variable, or else ``postgresql://postgres@127.0.0.1:5432/postgres``. That role must be
allowed to create databases. Each database is dropped ``WITH (FORCE)`` afterwards.
The ``whimbrel``, ``alembic`` and ``yoyo`` commands come from the venv running this
script, and ``psql`` from ``PATH``. A tool that fails is reported as
"not available" and does not stop the others.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"
VENV_BIN = Path(sys.executable).parent
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
FIRST_VERSION = 20260101000001

APPLY_RATIO_TARGET = 1.3
NOOP_TARGET_S = 0.25
HELP_TARGET_S = 0.15
NOOP_RUNS = 5
HELP_RUNS = 10


class ToolError(Exception):
    """A tool could not run or produced the wrong schema; the message is one line."""


@dataclass(frozen=True)
class Migration:
    index: int

    @property
    def version(self) -> int:
        return FIRST_VERSION + self.index

    @property
    def table(self) -> str:
        return f"t_{self.index}"

    @property
    def index_name(self) -> str:
        return f"{self.table}_name_index"  # Ecto's naming

    @property
    def filename_stem(self) -> str:
        return f"{self.version}_create_{self.table}"

    def ddl(self) -> list[str]:
        """The SQL statements of this migration, for the tools that take raw SQL."""
        return [
            f"CREATE TABLE {self.table} "
            "(id bigserial PRIMARY KEY, name text, created_at timestamptz)",
            f"CREATE INDEX {self.index_name} ON {self.table} (name)",
        ]


# --------------------------------------------------------------------------- helpers


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def database_url(admin_url: str, dbname: str) -> str:
    """``admin_url`` pointed at database ``dbname``."""
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{dbname}"))


def psycopg3_url(url: str) -> str:
    """``url`` in the SQLAlchemy-style scheme that selects psycopg 3 (alembic, yoyo)."""
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql+psycopg"))


def error_line(text: str) -> str:
    """The telling line of a tool's output: a traceback's last line, else the first."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]


@dataclass(frozen=True)
class Timing:
    """One finished run: wall time, and the peak resident memory of the process if known."""

    seconds: float
    peak_rss_mb: float | None


# GNU time reports a child's peak RSS accurately; wait4 in this (large) Python
# process would also count the pages the child shared with it before exec.
GNU_TIME = Path("/usr/bin/time")


def run_timed(argv: Sequence[str], cwd: Path) -> Timing:
    """Run ``argv`` to completion; its wall time and peak RSS (``None`` without GNU time)."""
    with tempfile.TemporaryDirectory() as scratch:
        rss_file = Path(scratch, "rss")
        wrapper = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file)] if GNU_TIME.exists() else []
        start = time.perf_counter()
        try:
            proc = subprocess.run([*wrapper, *argv], cwd=cwd, capture_output=True, text=True)
        except OSError as exc:
            raise ToolError(f"{exc.strerror}: {exc.filename}") from exc
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            message = error_line(proc.stderr) or error_line(proc.stdout)
            raise ToolError(message or f"{argv[0]} exited with status {proc.returncode}")
        rss = _last_number(rss_file.read_text()) if rss_file.exists() else None
    return Timing(elapsed, None if rss is None else rss / 1024)


def _last_number(text: str) -> float | None:
    lines = [line for line in text.splitlines() if line.strip().isdigit()]
    return float(lines[-1]) if lines else None


def _peak(runs: Sequence[Timing]) -> float | None:
    known = [r.peak_rss_mb for r in runs if r.peak_rss_mb is not None]
    return max(known) if known else None


@contextmanager
def fresh_database(admin_url: str, tool: str) -> Iterator[str]:
    """Create a uniquely named database, yield its name, then drop it.

    A CHECKPOINT first flushes the previous run's dirty pages, so every run starts at
    the same point of the checkpoint cycle (without it, timings here varied 3x).
    It needs superuser or pg_checkpoint; without either it is skipped.
    """
    name = f"whimbrel_bench_{tool}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            pass
    try:
        yield name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def check_schema(url: str, n: int) -> None:
    """Fail unless the database holds the N benchmark tables and their name indexes."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            r"""SELECT
                 (SELECT count(*) FROM pg_tables
                   WHERE schemaname = 'public' AND tablename LIKE 't\_%'),
                 (SELECT count(*) FROM pg_indexes
                   WHERE schemaname = 'public' AND indexname LIKE 't\_%\_name\_index')"""
        ).fetchone()
    tables, indexes = row if row else (0, 0)
    if (tables, indexes) != (n, n):
        raise ToolError(f"expected {n} tables and indexes, found {tables} and {indexes}")


# ----------------------------------------------------------------------- generators


def generate_whimbrel(root: Path, migrations: Sequence[Migration]) -> None:
    for m in migrations:
        write(
            root / "migrations" / f"{m.filename_stem}.py",
            f"""from whimbrel.migration import *


def change():
    with create(table("{m.table}")):
        add("name", "text")
        add("created_at", "timestamptz")
    create(index("{m.table}", ["name"]))
""",
        )


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


def generate_alembic(root: Path, migrations: Sequence[Migration]) -> None:
    write(root / "alembic.ini", ALEMBIC_INI)
    write(root / "env.py", ALEMBIC_ENV)
    previous: str | None = None
    for m in migrations:
        revision = str(m.version)
        write(
            root / "versions" / f"{m.filename_stem}.py",
            f"""import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {previous!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "{m.table}",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )
    op.create_index("{m.index_name}", "{m.table}", ["name"])


def downgrade() -> None:
    op.drop_index("{m.index_name}", table_name="{m.table}")
    op.drop_table("{m.table}")
""",
        )
        previous = revision


def generate_yoyo(root: Path, migrations: Sequence[Migration]) -> None:
    previous: str | None = None
    for m in migrations:
        # `yoyo new` chains each migration to the previous one the same way.
        header = f"-- depends: {previous}\n" if previous else ""
        body = "".join(f"{statement};\n" for statement in m.ddl())
        write(root / "migrations" / f"{m.filename_stem}.sql", header + body)
        previous = m.filename_stem


def generate_psql(root: Path, migrations: Sequence[Migration]) -> None:
    chunks = [
        "CREATE TABLE schema_migrations "
        "(version bigint PRIMARY KEY, inserted_at timestamp(0) without time zone);\n"
    ]
    for m in migrations:
        chunks.append("BEGIN;\n")
        chunks.extend(f"{statement};\n" for statement in m.ddl())
        chunks.append(
            "INSERT INTO schema_migrations (version, inserted_at) "
            f"VALUES ({m.version}, now());\nCOMMIT;\n"
        )
    write(root / "migrations.sql", "".join(chunks))


# -------------------------------------------------------------------------- runners
# Each returns the command that applies every migration in `root` to database `url`.


def whimbrel_migrate(root: Path, url: str) -> list[str]:
    return [str(VENV_BIN / "whimbrel"), "migrate", "--database-url", url]


def alembic_upgrade(root: Path, url: str) -> list[str]:
    return [str(VENV_BIN / "alembic"), "-x", f"url={psycopg3_url(url)}", "upgrade", "head"]


def yoyo_apply(root: Path, url: str) -> list[str]:
    # yoyo 9 maps postgresql:// to psycopg2 (not installed); psycopg 3 needs +psycopg.
    return [
        str(VENV_BIN / "yoyo"), "apply", "--batch", "--no-config-file",
        "--database", psycopg3_url(url), "migrations",
    ]  # fmt: skip


def psql_script(root: Path, url: str) -> list[str]:
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "migrations.sql", url]


@dataclass(frozen=True)
class Tool:
    name: str
    generate: Callable[[Path, Sequence[Migration]], None]
    command: Callable[[Path, str], list[str]]

    @property
    def root(self) -> Path:
        return WORK_DIR / self.name


TOOLS = (
    Tool("whimbrel", generate_whimbrel, whimbrel_migrate),
    Tool("alembic", generate_alembic, alembic_upgrade),
    Tool("yoyo", generate_yoyo, yoyo_apply),
    Tool("psql", generate_psql, psql_script),
)


# ------------------------------------------------------------------------ measuring


def apply_once(
    tool: Tool, admin_url: str, n: int, on_applied: Callable[[str], None] | None = None
) -> Timing:
    """Apply time on a fresh database; ``on_applied`` then sees the migrated database."""
    with fresh_database(admin_url, tool.name) as dbname:
        url = database_url(admin_url, dbname)
        elapsed = run_timed(tool.command(tool.root, url), tool.root)
        check_schema(url, n)
        if on_applied:
            on_applied(url)
    return elapsed


def repeated(argv: Sequence[str], cwd: Path, runs: int) -> dict[str, Any]:
    """Median and best wall time of ``runs`` runs, or the error that stopped them."""
    try:
        runs_ = [run_timed(argv, cwd) for _ in range(runs)]
    except ToolError as exc:
        return {"error": str(exc)}
    times = [r.seconds for r in runs_]
    return {
        "median": statistics.median(times),
        "best": min(times),
        "peak_rss_mb": _peak(runs_),
    }


def target(name: str, value: float | None, limit: float) -> dict[str, Any]:
    """A target is met only when measured; an unmeasured one fails."""
    status = "PASS" if value is not None and value < limit else "FAIL"
    return {"name": name, "value": value, "limit": limit, "status": status}


def run_benchmark(admin_url: str, n: int, repeat: int) -> dict[str, Any]:
    migrations = [Migration(i) for i in range(n)]
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    for tool in TOOLS:
        tool.generate(tool.root, migrations)

    whimbrel = TOOLS[0]
    noop: dict[str, Any] = {"error": "not measured"}

    def time_noop_migrate(url: str) -> None:
        nonlocal noop
        noop = repeated(whimbrel.command(whimbrel.root, url), whimbrel.root, NOOP_RUNS)

    # Tools take turns within each round, so a slow spell of the server or disk
    # (fsync dominates here) is shared rather than pinned on one tool.
    times: dict[str, list[Timing]] = {tool.name: [] for tool in TOOLS}
    errors: dict[str, str] = {}
    for round_ in range(1, repeat + 1):
        for tool in TOOLS:
            if tool.name in errors:
                continue
            print(f"round {round_}/{repeat}: {tool.name}", file=sys.stderr)
            hook = time_noop_migrate if tool is whimbrel and round_ == repeat else None
            try:
                times[tool.name].append(apply_once(tool, admin_url, n, hook))
            except ToolError as exc:
                errors[tool.name] = str(exc)
    if whimbrel.name in errors:
        noop = {"error": errors[whimbrel.name]}

    apply: dict[str, dict[str, Any]] = {
        name: {"error": errors[name]}
        if name in errors
        else {
            "seconds": min(r.seconds for r in runs),
            "peak_rss_mb": _peak(runs),
        }
        for name, runs in times.items()
    }

    baseline = apply["psql"].get("seconds")
    for result in apply.values():
        seconds = result.get("seconds")
        result["ratio"] = seconds / baseline if seconds is not None and baseline else None

    help_ = repeated([str(VENV_BIN / "whimbrel"), "--help"], BENCH_DIR, HELP_RUNS)
    return {
        "n": n,
        "repeat": repeat,
        "apply": apply,
        "whimbrel_noop_migrate": noop,
        "whimbrel_help": help_,
        "targets": [
            target(
                f"apply within {APPLY_RATIO_TARGET}x of psql",
                apply["whimbrel"]["ratio"],
                APPLY_RATIO_TARGET,
            ),
            target(f"no-op migrate < {NOOP_TARGET_S} s", noop.get("median"), NOOP_TARGET_S),
            target(f"--help < {HELP_TARGET_S} s", help_.get("median"), HELP_TARGET_S),
        ],
    }


# ------------------------------------------------------------------------ reporting


def print_report(results: dict[str, Any]) -> None:
    n, repeat = results["n"], results["repeat"]
    print(f"N={n} migrations, best of {repeat} run(s), each on a fresh database")
    print(f"{'tool':<10} {'seconds':>9} {'vs psql':>8} {'peak RSS':>10}")
    for name, result in results["apply"].items():
        if "error" in result:
            print(f"{name}: not available ({result['error']})")
            continue
        ratio = "-" if result["ratio"] is None else f"{result['ratio']:.2f}x"
        rss = "-" if result["peak_rss_mb"] is None else f"{result['peak_rss_mb']:.0f} MB"
        print(f"{name:<10} {result['seconds']:>9.3f} {ratio:>8} {rss:>10}")
    print()
    for label, key in (("no-op migrate", "whimbrel_noop_migrate"), ("--help", "whimbrel_help")):
        timing = results[key]
        if "error" in timing:
            print(f"whimbrel {label}: not available ({timing['error']})")
        else:
            peak = timing["peak_rss_mb"]
            rss = "" if peak is None else f", peak RSS {peak:.0f} MB"
            median, best = timing["median"], timing["best"]
            print(f"whimbrel {label}: median {median:.3f} s, best {best:.3f} s{rss}")
    print()
    for t in results["targets"]:
        print(f"{t['status']:<4}  {t['name']}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="number of migrations (default 500)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="apply runs per tool, best is kept (default 1)"
    )
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("WHIMBREL_BENCH_PG_URL", DEFAULT_ADMIN_URL),
        help="PostgreSQL URL of a role that may create databases "
        f"(default: $WHIMBREL_BENCH_PG_URL or {DEFAULT_ADMIN_URL})",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with psycopg.connect(args.admin_url, connect_timeout=5):
            pass
    except psycopg.Error as exc:
        print(f"cannot connect to the admin database: {error_line(str(exc))}", file=sys.stderr)
        return 2
    results = run_benchmark(args.admin_url, args.n, args.repeat)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
