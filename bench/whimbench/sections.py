"""The benchmark's cases, each returning rows for the one table.

- ``apply``: N migrations by every tool on a fresh database, round by round,
  each round's ratio taken against the floor of the same round; whimbrel's
  database then times a no-op ``migrate``.
- ``growth``: the floor and whimbrel at several N (time per migration).
- ``status``: ``status`` and ``ensure-up`` with many migrations applied.
- ``tenants``: many tenant schemas, sequential and ``--jobs``, each against its floor.
- ``help``: ``whimbrel --help``.

Example::

    ctx = Context(work=WORK_DIR, progress=print)
    rows = apply(ctx, backend, 500, ALL_TOOLS, rounds=3, noop_runs=3)
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from whimbench.backends import FIRST_VERSION, Backend, Database, ToolError
from whimbench.measure import Row, Run, Target, run_timed
from whimbench.tools import (
    FLOOR,
    WHIMBREL,
    Tool,
    pool_listing,
    whimbrel_argv,
    whimbrel_bare,
    write_project,
    write_tenant_project,
    write_whimbrel,
)

T = TypeVar("T")

APPLY_RATIO = Target("vs floor<=1.00x", "ratio", 1.0)
APPLY_OWN = Target("own<=0.50 ms", "own_ms", 0.5)
NOOP = Target("<=0.10 s", "wall", 0.10)
STATUS = Target("<=0.15 s", "wall", 0.15)
GROWTH_LIMIT = 1.2
JOBS_SPEEDUP = 3.0
SEED_CHUNK = 1000


@dataclass
class Context:
    """Where projects are written, and how progress is reported (stderr)."""

    work: Path
    progress: Callable[[str], None]
    started: float = 0.0

    def say(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        self.progress(f"[{elapsed:6.0f} s] {message}")


def _label(backend: Backend, tool: Tool) -> str:
    return backend.floor_tool if tool is FLOOR else tool.name


def _rotated(items: Sequence[T], round_: int) -> list[T]:
    """Round r starts with the r-th tool, so no tool always runs first (or last)."""
    k = round_ % len(items)
    return [*items[k:], *items[:k]]


def apply(
    ctx: Context,
    backend: Backend,
    n: int,
    tools: Sequence[Tool],
    rounds: int,
    *,
    case: str = "apply",
    noop_runs: int = 0,
    targets: bool = True,
) -> list[Row]:
    """Each tool applies N migrations on a fresh database, once per round."""
    rows = {t.name: Row(backend.name, _label(backend, t), case, f"{n:,}", n=n) for t in tools}
    noop = Row(backend.name, "whimbrel", "no-op migrate", f"{n:,}") if noop_runs else None
    if targets and backend.name == "postgres" and "whimbrel" in rows:
        rows["whimbrel"].targets = [APPLY_RATIO, APPLY_OWN]
    if noop is not None and backend.name in ("postgres", "sqlite"):
        noop.targets = [NOOP]
    every = [*rows.values(), *([noop] if noop else [])]
    if backend.unavailable:
        for row in every:
            row.fail(backend.unavailable)
        return every
    project = write_project(ctx.work / f"{backend.name}-{n}", backend, n, tools)
    for round_ in range(rounds):
        runs: dict[str, Run] = {}
        for tool in _rotated(tools, round_):
            row = rows[tool.name]
            if row.error:
                continue
            ctx.say(f"{backend.name} {case} N={n} round {round_ + 1}/{rounds}: {row.tool}")
            try:
                with backend.fresh(tool.name) as db:
                    argv = tool.command(project, backend, db)
                    runs[tool.name] = run_timed(argv, project)
                    backend.check(db, n)
                    if tool is WHIMBREL and noop is not None:
                        for _ in range(noop_runs):
                            noop.add(run_timed(argv, project))
            except ToolError as exc:
                row.fail(str(exc))
                runs.pop(tool.name, None)
        floor = runs.get("floor")
        for name, run in runs.items():
            rows[name].add(run, floor)
    floor_row = rows.get("floor")
    if floor_row is None or not floor_row.walls:
        for row in rows.values():
            _floor_targets_na(row, "floor not run" if floor_row is None else "floor failed")
    return every


def _floor_targets_na(row: Row, why: str) -> None:
    """Show targets taken against the floor as n/a when there is no floor to take them against.

    ``--only noop`` applies with whimbrel alone: its ratio and own cost are then
    not measured, which is not a failure of whimbrel's.
    """
    against_floor = [t for t in row.targets if t.figure in ("ratio", "own_ms")]
    row.targets = [t for t in row.targets if t not in against_floor]
    row.notes += [f"{t.label} n/a ({why})" for t in against_floor]


def growth(
    ctx: Context, backend: Backend, sizes: Sequence[int], rounds: Callable[[int], int]
) -> list[Row]:
    """The floor and whimbrel at each N; whimbrel's ms/migration should stay flat."""
    rows: list[Row] = []
    for n in sizes:
        rows += apply(ctx, backend, n, [FLOOR, WHIMBREL], rounds(n), case="growth", targets=False)
    whimbrel = [r for r in rows if r.tool == "whimbrel"]
    if len(whimbrel) >= 2:
        # Start-up (~0.4 s) inflates ms/migration at small N; compare the two largest
        # sizes, where it is amortised, so only real growth (O(N^2) work) can fail this.
        base, last = whimbrel[-2], whimbrel[-1]
        if base.per_mig_ms and last.per_mig_ms:
            last.derived = last.per_mig_ms / base.per_mig_ms
        last.targets = [Target(f"ms/mig vs N={base.size} <= {GROWTH_LIMIT}x", "growth", 1.2)]
    return rows


def status(ctx: Context, backend: Backend, count: int, runs: int) -> list[Row]:
    """``status`` and ``ensure-up`` with ``count`` migrations applied (rows seeded)."""
    rows = [
        Row(backend.name, "whimbrel", case, f"{count:,}", targets=[STATUS])
        for case in ("status", "ensure-up")
    ]
    if backend.unavailable:
        for row in rows:
            row.fail(backend.unavailable)
        return rows
    project = ctx.work / f"{backend.name}-status-{count}"
    if not (project / "whimbrel" / "whimbrel.toml").exists():
        write_whimbrel(project / "whimbrel", count)
    ctx.say(f"{backend.name} status/ensure-up with {count:,} migrations")
    try:
        with backend.fresh("status") as db:
            _seed(project, backend, db.url, count, lambda sql: backend.execute(db, sql))
            for _ in range(runs):
                for row in rows:
                    argv = whimbrel_argv(project, row.case, "--database-url", db.url)
                    row.add(run_timed(argv, project))
    except ToolError as exc:
        for row in rows:
            row.fail(str(exc))
    return rows


def _seed(
    project: Path, backend: Backend, url: str, count: int, execute: Callable[[list[str]], None]
) -> None:
    """Apply the first migration with whimbrel (its own versions table), insert the rest.

    Applying 10,000 migrations would take minutes of commits; status and ensure-up
    only read the versions table and the file names. ``ensure-up`` must then exit 0,
    so a versions table that whimbrel would not accept fails here, loudly.
    """
    run_timed(whimbrel_argv(project, "migrate", "--step", "1", "--database-url", url), project)
    versions = [FIRST_VERSION + i for i in range(1, count)]
    chunks = [versions[k : k + SEED_CHUNK] for k in range(0, len(versions), SEED_CHUNK)]
    execute([backend.version_rows_sql(chunk) for chunk in chunks])
    run_timed(whimbrel_argv(project, "ensure-up", "--database-url", url), project)


def has_jobs_option() -> bool:
    """Whether ``whimbrel migrate`` takes ``--jobs`` (issue 12), read from its help."""
    argv = whimbrel_bare("migrate", "--help")
    out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    return "--jobs" in out


def tenants(
    ctx: Context, backend: Backend, count: int, per_tenant: int, jobs: int, rounds: int
) -> list[Row]:
    """``count`` tenant schemas of ``per_tenant`` migrations, sequential and ``jobs`` at once.

    Each mode has its floor: one client running every tenant's script in turn,
    and ``jobs`` clients at once, each running its share of the tenants' scripts
    (``write_pool``). whimbrel's rows take their ratio and own cost against the
    floor of their mode, so ``--jobs`` is measured against what ``jobs``
    clients reach on this machine, and the parallel floor's own speedup shows
    how much of the ``--jobs`` target the machine allows.
    """
    size, total = f"{count:,}x{per_tenant}", count * per_tenant
    floor = Row(backend.name, backend.floor_tool, "tenants", size, n=total)
    seq = Row(backend.name, "whimbrel", "tenants sequential", size, n=total)
    pool_tool, jobs_case = f"{backend.floor_tool} x{jobs}", f"tenants --jobs {jobs}"
    pool = Row(backend.name, pool_tool, jobs_case, size, n=total)
    par = Row(backend.name, "whimbrel", jobs_case, size, n=total)
    par.targets = [Target(f"speedup vs sequential>={JOBS_SPEEDUP:.0f}x", "speedup", 3.0, True)]
    named = {"floor": floor, "seq": seq, "pool": pool, "par": par}
    floor_of = {"floor": "floor", "seq": "floor", "pool": "pool", "par": "pool"}
    rows = list(named.values())
    if backend.unavailable:
        for row in rows:
            row.fail(backend.unavailable)
        return rows
    if not has_jobs_option():
        par.fail("n/a (no --jobs)")
    where = ctx.work / f"{backend.name}-tenants-{count}x{per_tenant}"
    project = write_tenant_project(where, backend, count, per_tenant, jobs)
    script, listing = project / "floor" / "floor.sql", pool_listing(project, jobs)
    jobs_args = ["--jobs", str(jobs)]
    commands: dict[str, Callable[[Database], list[str]]] = {
        "floor": lambda db: backend.floor_argv(db, script),
        "seq": lambda db: whimbrel_argv(project, "migrate", "--database-url", db.url),
        "pool": lambda db: backend.floor_pool_argv(db, listing, jobs),
        "par": lambda db: whimbrel_argv(project, "migrate", *jobs_args, "--database-url", db.url),
    }
    for round_ in range(rounds):
        runs: dict[str, Run] = {}
        for key in _rotated(list(commands), round_):
            row = named[key]
            if row.error:
                continue
            step = f"{backend.name} tenants {size} round {round_ + 1}/{rounds}"
            ctx.say(f"{step}: {row.tool} {row.case}")
            try:
                with backend.fresh(f"tenants_{key}") as db:
                    runs[key] = run_timed(commands[key](db), project)
                    backend.check(db, total)
            except ToolError as exc:
                row.fail(str(exc))
                runs.pop(key, None)
        for key, run in runs.items():
            named[key].add(run, runs.get(floor_of[key]))
    _speedups(floor, pool, seq, par)
    return rows


def _speedups(floor: Row, pool: Row, seq: Row, par: Row) -> None:
    """Sequential over parallel wall, for the floor (a note) and whimbrel (the target)."""
    if seq.wall and par.wall and not par.error:
        par.speedup = seq.wall / par.wall
    if floor.wall and pool.wall and not (floor.error or pool.error):
        pool.speedup = floor.wall / pool.wall
        pool.notes.append(f"speedup vs {floor.tool} {pool.speedup:.2f}x (what the machine allows)")
    if par.ratio is not None and not (par.error or pool.error):
        par.notes.append(f"vs {pool.tool} {par.ratio:.2f}x")


def help_(ctx: Context, runs: int) -> list[Row]:
    row = Row("-", "whimbrel", "--help", "-")
    ctx.say("whimbrel --help")
    try:
        for _ in range(runs):
            row.add(run_timed(whimbrel_bare("--help"), ctx.work))
    except ToolError as exc:
        row.fail(str(exc))
    return [row]
