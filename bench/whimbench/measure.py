"""Timing processes, and the rows of the report that collect the timings.

Every figure is a whole process (interpreter start-up included), timed from
outside, with its peak RSS from GNU ``time``. Tools take turns within a round,
each on a fresh database, and a row keeps one figure per round; the report
shows medians, so one slow spell of the shared machine moves one round, not
the result.

Example::

    run = run_timed(["psql", "-f", "floor.sql", url], cwd)
    row = Row("postgres", "psql", "apply", "500")
    row.add(run, floor=floor_run, n=500)
    row.ratio                             # median over rounds of tool / floor
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from whimbench.backends import ToolError

# GNU time reports the child's own peak RSS; wait4 in this (large) Python process
# would also count the pages the child shared with it before exec.
GNU_TIME = Path("/usr/bin/time")


@dataclass(frozen=True)
class Run:
    """One finished process: wall time in seconds, peak RSS in MB if known."""

    seconds: float
    rss_mb: float | None


def run_timed(argv: Sequence[str], cwd: Path) -> Run:
    """Run ``argv`` to completion; a non-zero exit raises ``ToolError`` with its message."""
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
        numbers = [ln for ln in rss_file.read_text().splitlines() if ln.strip().isdigit()]
    return Run(elapsed, float(numbers[-1]) / 1024 if numbers else None)


def error_line(text: str) -> str:
    """The telling line of a tool's output: a traceback's last line, else the first."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]


@dataclass(frozen=True)
class Target:
    """A limit on one of a row's figures; unmeasured counts as FAIL."""

    label: str
    figure: str  # "wall", "ratio", "own_ms", "growth" or "speedup"
    limit: float
    at_least: bool = False

    def status(self, value: float | None) -> str:
        if value is None:
            return "FAIL"
        ok = value >= self.limit if self.at_least else value <= self.limit
        return "PASS" if ok else "FAIL"


@dataclass
class Row:
    """One line of the table: a tool doing one case at one size, over rounds."""

    db: str
    tool: str
    case: str
    size: str
    n: int = 0
    walls: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    own_ms: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    error: str | None = None
    targets: list[Target] = field(default_factory=list)
    speedup: float | None = None
    #: A figure computed from other rows (e.g. growth), shown in the target column.
    derived: float | None = None
    #: Figures without a target, shown after the targets (e.g. a floor's own speedup).
    notes: list[str] = field(default_factory=list)

    def add(self, run: Run, floor: Run | None = None) -> None:
        """Record one round; with the floor's run of the same round, the ratio and own cost."""
        self.walls.append(run.seconds)
        if run.rss_mb is not None:
            self.rss.append(run.rss_mb)
        if floor is not None:
            self.ratios.append(run.seconds / floor.seconds)
            if self.n and run is not floor:
                self.own_ms.append((run.seconds - floor.seconds) / self.n * 1000)

    def fail(self, message: str) -> None:
        self.error = self.error or message

    @property
    def wall(self) -> float | None:
        return statistics.median(self.walls) if self.walls else None

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None

    @property
    def own(self) -> float | None:
        return statistics.median(self.own_ms) if self.own_ms else None

    @property
    def per_mig_ms(self) -> float | None:
        wall = self.wall
        return wall / self.n * 1000 if wall is not None and self.n else None

    @property
    def peak(self) -> float | None:
        return max(self.rss) if self.rss else None

    def figure(self, name: str) -> float | None:
        values = {
            "wall": self.wall,
            "ratio": self.ratio,
            "own_ms": self.own,
            "growth": self.derived,
            "speedup": self.speedup,
        }
        return None if self.error else values[name]
