"""whimbrel's benchmark (issue 12): one table against each database's own client.

Tools take turns round by round on one server (the floor client, whimbrel,
alembic, yoyo), each on a fresh database; the table shows medians over rounds
of the wall time, of the ratio to the floor of the same round, and of
whimbrel's own cost per migration ((whimbrel - floor) / N), with peak RSS and
each target's PASS/FAIL. See bench/README.md for what each case measures.

Run it from the repository root with the project's venv (``make bench`` does)::

    .venv/bin/python bench/run.py                    # the default run, ~10 min
    .venv/bin/python bench/run.py --quick            # every case, small sizes, ~1-2 min
    .venv/bin/python bench/run.py --only apply,status --db postgres --repeat 5
    .venv/bin/python bench/run.py --full             # the issue's sizes (long)
    .venv/bin/python bench/run.py --json             # rows as JSON on stdout

Servers: PostgreSQL from ``--pg-url`` or ``$WHIMBREL_BENCH_PG_URL``, else as the
tests find one (``$WHIMBREL_TEST_POSTGRES_URL``, 127.0.0.1:5432, an embedded
server); MySQL/MariaDB from ``--mysql-url`` or ``$WHIMBREL_BENCH_MYSQL_URL``,
else ``$WHIMBREL_TEST_MYSQL_URL`` or 127.0.0.1:3306. The role must be allowed to
create databases. A database or tool that is missing shows as "not available".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from whimbench import sections
from whimbench.backends import Backend, MySQL, Postgres, SQLite, server_version
from whimbench.measure import Row
from whimbench.report import LEGEND, as_json, render
from whimbench.tools import ALL_TOOLS, FLOOR, WHIMBREL, Tool

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"
SECTIONS = ("apply", "noop", "growth", "memory", "status", "tenants", "help")
BACKENDS = ("postgres", "sqlite", "mysql")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    size = p.add_argument_group("sizes (defaults: the standard run; see --quick and --full)")
    size.add_argument("--n", type=int, help="migrations in apply and no-op (500)")
    size.add_argument("--growth", help="comma-separated N for growth (100,1000,5000)")
    size.add_argument("--memory-n", type=int, help="N of the peak-memory case (5000)")
    size.add_argument("--status-n", type=int, help="migrations for status/ensure-up (10000)")
    size.add_argument("--tenants", type=int, help="tenant schemas (50)")
    size.add_argument("--per-tenant", type=int, help="migrations per tenant (20)")
    size.add_argument("--jobs", type=int, default=8, help="--jobs for the tenants case (8)")
    p.add_argument("--repeat", type=int, help="rounds of apply and of small growth sizes (3)")
    p.add_argument("--quick", action="store_true", help="every case at small sizes, one round")
    p.add_argument("--full", action="store_true", help="the issue's sizes: 1,000 tenants, "
                   "3 rounds at every growth size, peak memory on PostgreSQL")  # fmt: skip
    p.add_argument("--only", help=f"comma-separated cases: {','.join(SECTIONS)}")
    p.add_argument("--tools", help="comma-separated tools of the apply case: floor,whimbrel,"
                   "alembic,yoyo (all); e.g. floor,whimbrel with --repeat 21 for the "
                   "ratio alone")  # fmt: skip
    p.add_argument("--db", help=f"comma-separated databases: {','.join(BACKENDS)}")
    p.add_argument("--pg-url", "--admin-url", dest="pg_url",
                   default=os.environ.get("WHIMBREL_BENCH_PG_URL"))  # fmt: skip
    p.add_argument("--mysql-url", default=os.environ.get("WHIMBREL_BENCH_MYSQL_URL"))
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = p.parse_args(argv)
    _apply_profile(args)
    for name, choices in (("only", SECTIONS), ("db", BACKENDS)):
        chosen = getattr(args, name)
        unknown = sorted(set(chosen) - set(choices))
        if unknown:
            p.error(f"--{name} {','.join(unknown)}: choose from {','.join(choices)}")
    sizes = (args.n, args.tenants, args.per_tenant, args.status_n, args.jobs, *args.growth)
    if min(args.repeat, *sizes) < 1:
        p.error("sizes, --jobs and --repeat must be at least 1")
    return args


def _apply_profile(args: argparse.Namespace) -> None:
    """Fill what was not given from --quick, --full or the standard run."""
    if args.quick:
        profile = dict(n=50, growth="50,200", memory_n=200, status_n=1000, tenants=10,
                       per_tenant=5, repeat=1, big_rounds=1, memory_db="sqlite-tmpfs",
                       mysql_all=False)  # fmt: skip
    elif args.full:
        profile = dict(n=500, growth="100,1000,5000", memory_n=5000, status_n=10000,
                       tenants=1000, per_tenant=20, repeat=3, big_rounds=3,
                       memory_db="postgres", mysql_all=True)  # fmt: skip
    else:
        profile = dict(n=500, growth="100,1000,5000", memory_n=5000, status_n=10000,
                       tenants=50, per_tenant=20, repeat=3, big_rounds=1,
                       memory_db="sqlite-tmpfs", mysql_all=False)  # fmt: skip
    for key, value in profile.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    args.growth = [int(v) for v in str(args.growth).split(",") if v.strip()]
    args.only = [s.strip() for s in args.only.split(",")] if args.only else list(SECTIONS)
    args.db = [s.strip() for s in args.db.split(",")] if args.db else list(BACKENDS)


def header(args: argparse.Namespace, backends: Mapping[str, Backend]) -> str:
    commit = subprocess.run(
        ["git", "-C", str(BENCH_DIR), "log", "-1", "--format=%h %s"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()[:72]  # fmt: skip
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    lines = [
        f"whimbrel bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}",
        f"{os.cpu_count()} cores, load average {load}; {args.repeat} round(s) "
        f"(growth N>=2000: {args.big_rounds}); command: {' '.join(sys.argv)}",
    ]
    lines += [server_version(b) for b in backends.values()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> tuple[list[Row], str]:
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    WORK_DIR.mkdir(parents=True)
    ctx = sections.Context(WORK_DIR, lambda m: print(m, file=sys.stderr), time.monotonic())
    # One folder per run: two benches at once (two checkouts) must not delete each other's.
    shm = Path("/dev/shm") if Path("/dev/shm").is_dir() else WORK_DIR
    tmpfs = shm / f"whimbrel-bench-{os.getpid()}"
    makers: dict[str, Callable[[], Backend]] = {
        "postgres": lambda: Postgres(args.pg_url),
        "sqlite": lambda: SQLite(WORK_DIR / "sqlite-dbs"),
        "mysql": lambda: MySQL(args.mysql_url),
        "sqlite-tmpfs": lambda: SQLite(tmpfs, label="sqlite-tmpfs"),
    }
    # Only what this run uses: finding PostgreSQL may start an embedded server.
    needed = [*args.db, *([args.memory_db] if "memory" in args.only else [])]
    backends = {name: makers[name]() for name in dict.fromkeys(needed)}
    try:
        top = header(args, backends)
        return _cases(ctx, args, backends), top
    finally:
        for backend in backends.values():
            backend.close()
        shutil.rmtree(tmpfs, ignore_errors=True)


def _cases(
    ctx: sections.Context, args: argparse.Namespace, backends: Mapping[str, Backend]
) -> list[Row]:
    only, rows = set(args.only), list[Row]()
    pg = backends.get("postgres")
    apply_tools: Sequence[Tool] = ALL_TOOLS if "apply" in only else (WHIMBREL,)
    if args.tools and "apply" in only:
        wanted = set(args.tools.split(","))
        unknown = wanted - {t.name for t in ALL_TOOLS}
        if unknown or WHIMBREL.name not in wanted:
            raise SystemExit(
                f"--tools: {', '.join(sorted(unknown)) or 'whimbrel is missing'}; "
                f"choose from {','.join(t.name for t in ALL_TOOLS)}, whimbrel included"
            )
        apply_tools = tuple(t for t in ALL_TOOLS if t.name in wanted)
    noop_runs = 3 if "noop" in only else 0
    if only & {"apply", "noop"}:
        for name in args.db:
            tools = apply_tools
            if name == "mysql" and not args.mysql_all:  # alembic and yoyo there: --full
                tools = tuple(t for t in apply_tools if t in (FLOOR, WHIMBREL))
            rows += sections.apply(ctx, backends[name], args.n, tools, args.repeat,
                                   noop_runs=noop_runs)  # fmt: skip
    if "status" in only:
        for name in args.db:
            if name in ("postgres", "sqlite"):
                rows += sections.status(ctx, backends[name], args.status_n, runs=5)
    if "growth" in only and pg is not None:
        rounds = lambda n: args.repeat if n < 2000 else args.big_rounds  # noqa: E731
        rows += sections.growth(ctx, pg, args.growth, rounds)
    if "memory" in only:
        memory_db = backends[args.memory_db]
        rows += sections.apply(ctx, memory_db, args.memory_n, ALL_TOOLS, 1, case="peak memory",
                               targets=False)  # fmt: skip
    if "tenants" in only and pg is not None:
        rows += sections.tenants(ctx, pg, args.tenants, args.per_tenant, args.jobs, rounds=1)
    if "help" in only:
        rows += sections.help_(ctx, runs=5)
    return rows


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # SIGTERM would end the process without `finally`: the throwaway databases
    # and an embedded server would be left behind.
    raise KeyboardInterrupt


def compile_bytecode() -> None:
    """Write whimbrel's .pyc files, as installing its wheel does.

    The project is installed editable, and where PYTHONDONTWRITEBYTECODE is set
    (it is on this machine) every run would compile whimbrel's source again:
    about 40 ms of each no-op that no installed copy pays. alembic, yoyo and
    the drivers come from wheels, with their bytecode.
    """
    import compileall

    import whimbrel

    compileall.compile_dir(Path(whimbrel.__file__).parent, quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    compile_bytecode()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    rows, top = run(args)
    if args.json:
        print(json.dumps({"header": top, "rows": as_json(rows)}, indent=2))
    else:
        print(top)
        print()
        print(render(rows))
        print()
        print(LEGEND)
    return 0


if __name__ == "__main__":
    sys.exit(main())
