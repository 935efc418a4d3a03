"""Where whimbrel's time goes: a no-op ``migrate`` and applying N migrations.

For each database (PostgreSQL, SQLite) it writes N benchmark migrations, and on
a fresh database:

- applies them once unprofiled (wall and CPU time) and once under cProfile,
  then splits the profile into waiting on the database, imports, loading and
  compiling the migration files, and the rest (Python);
- counts the statements sent per migration (each one a round trip);
- runs the no-op ``migrate`` (everything applied) under ``-X importtime`` and
  attributes import time to the package that pulled each module in
  (a standard-library module counts for the package that imported it).

CPU time (user + sys) is printed next to wall time because on a loaded machine
wall time mostly measures the queue for a core.

    .venv/bin/python bench/profile_whimbrel.py              # N=500
    .venv/bin/python bench/profile_whimbrel.py --n 100 --db sqlite
"""

from __future__ import annotations

import argparse
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from whimbench.backends import Backend, Postgres, SQLite
from whimbench.tools import whimbrel_argv, write_whimbrel

STDLIB = set(sys.stdlib_module_names) | {"__main__", "encodings", "_frozen_importlib_external"}
GROUPS = {"psycopg_binary": "psycopg", "psycopg_c": "psycopg"}


def timed(argv: Sequence[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + sys) and stderr of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])}... failed: {proc.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stderr


def with_python(project: Path, url: str, *python_args: str) -> list[str]:
    """``whimbrel migrate`` as ``python [-X importtime | -m cProfile] -m whimbrel ...``."""
    argv = whimbrel_argv(project, "migrate", "--database-url", url)
    return [sys.executable, *python_args, "-m", "whimbrel", *argv[1:]]


def import_owners(stderr: str) -> tuple[float, dict[str, float]]:
    """Total import ms, and ms per package that pulled the modules in (from -X importtime)."""
    entries = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line.split(":", 1)[1].split("|")
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2  # one space, then two per level
        entries.append((depth, int(self_us), name.strip()))
    owners: dict[str, float] = defaultdict(float)
    stack: list[str] = []  # owner at each depth, walking parents before children
    for depth, self_us, name in reversed(entries):
        root = GROUPS.get(name.split(".")[0], name.split(".")[0])
        parent = stack[depth - 1] if 0 < depth <= len(stack) else "python start-up"
        owner = parent if root in STDLIB else root
        del stack[depth:]
        stack.append(owner)
        owners[owner] += self_us / 1000
    return sum(owners.values()), dict(owners)


def whimbrel_modules(stderr: str) -> dict[str, float]:
    """Own import ms of each whimbrel module (module bodies: classes, dataclasses, regexes)."""
    found = {}
    for line in stderr.splitlines():
        if line.startswith("import time:") and "whimbrel" in line:
            self_us, _cumulative, name = line.split(":", 1)[1].split("|")
            if name.strip().startswith("whimbrel"):
                found[name.strip()] = int(self_us) / 1000
    return found


def _stat(stats: pstats.Stats, path_end: str, function: str) -> tuple[int, float, float]:
    """(calls, own seconds, cumulative seconds) of one function in a profile; 0 if absent."""
    calls, tt, ct = 0, 0.0, 0.0
    for (filename, _line, name), (_cc, nc, t, c, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if filename.endswith(path_end) and name == function:
            calls, tt, ct = calls + nc, tt + t, max(ct, c)
    return calls, tt, ct


def profile_split(path: Path, backend: Backend) -> dict[str, float]:
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    if isinstance(backend, Postgres):
        statements, _, _ = _stat(stats, "psycopg/connection.py", "execute")
        _, waiting, _ = _stat(stats, "psycopg/connection.py", "wait")
    else:
        statements, waiting, _ = _stat(
            stats, "~", "<method 'execute' of 'sqlite3.Connection' objects>"
        )
    imports = _stat(stats, "_bootstrap>", "_find_and_load")[2]
    checked = _stat(stats, "migrator/core.py", "_checked")[2]
    return {
        "total": total,
        "waiting": waiting,
        "imports": imports,
        "load_compile": checked,
        "statements": statements,
    }


def profile(backend: Backend, n: int, work: Path) -> list[str]:
    project = work / backend.name
    write_whimbrel(project / "whimbrel", n)
    out = [f"== {backend.name}, N={n}"]
    with backend.fresh("profile") as db:
        wall, cpu, _ = timed(with_python(project, db.url), project)
        out.append(
            f"apply {n}: wall {wall:.2f} s, CPU {cpu:.2f} s ({cpu / n * 1000:.2f} ms/migration)"
        )
        wall_noop, cpu_noop, _ = timed(with_python(project, db.url), project)
        out.append(f"no-op migrate ({n} applied): wall {wall_noop:.3f} s, CPU {cpu_noop:.3f} s")
        beyond = (cpu - cpu_noop) / n * 1000
        out.append(f"CPU per migration beyond the no-op's start-up: {beyond:.2f} ms")
        _, _, stderr = timed(with_python(project, db.url, "-X", "importtime"), project)
        total, owners = import_owners(stderr)
        ranked = sorted(owners.items(), key=lambda kv: -kv[1])
        parts = ", ".join(f"{k} {v:.0f}" for k, v in ranked[:5])
        out.append(f"no-op imports: {total:.0f} ms in all, by who pulled them in: {parts} ms")
        mine = sorted(whimbrel_modules(stderr).items(), key=lambda kv: -kv[1])
        out.append(
            "  whimbrel modules (own time): " + ", ".join(f"{k} {v:.0f}" for k, v in mine[:6])
        )
    with backend.fresh("profile") as db:
        prof = work / f"{backend.name}-apply.prof"
        timed(with_python(project, db.url, "-m", "cProfile", "-o", str(prof)), project)
        split = profile_split(prof, backend)
    t, n_ = split["total"], n
    python = t - split["waiting"]
    per_migration = (python - split["imports"]) / n_ * 1000
    out.append(
        f"apply {n} under cProfile: {t:.2f} s; waiting on the database {split['waiting']:.2f} s "
        f"({split['waiting'] / t:.0%}); Python {python:.2f} s, of which imports "
        f"{split['imports']:.2f} s and loading + compiling the files {split['load_compile']:.2f} s "
        f"(imports of the DSL included); Python after imports {per_migration:.2f} ms/migration; "
        f"{split['statements'] / n:.1f} statements (round trips) per migration"
    )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--db", default="postgres,sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("WHIMBREL_BENCH_PG_URL"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="whimbrel-profile-") as scratch:
        work = Path(scratch)
        makers = {"postgres": lambda: Postgres(args.pg_url), "sqlite": lambda: SQLite(work / "db")}
        for name in args.db.split(","):
            backend = makers[name]()
            try:
                if backend.unavailable:
                    print(f"== {name}: not available ({backend.unavailable})")
                    continue
                print("\n".join(profile(backend, args.n, work)), flush=True)
            finally:
                backend.close()
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"(load average {load} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
