"""The one table: every row, its medians, and each target with PASS/FAIL beside it.

Example::

    print(render(rows))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from whimbench.measure import Row

HEADER = ("db", "tool", "case", "N", "wall s", "vs floor", "own ms/mig", "ms/mig", "peak MB")

LEGEND = """\
wall s: median over rounds of the whole process (start-up included). vs floor: median over
rounds of wall / the floor's wall in the same round. own ms/mig: median over rounds of
(wall - floor wall) / N, the tool's own cost per migration. ms/mig: wall / N. peak MB:
the largest peak RSS over rounds. Floors: psql -f, sqlite3, mariadb; each migration in its
own transaction with its version row (MySQL DDL autocommits). psql xJ: the tenants' scripts
split over J psql run at once, the floor of whimbrel --jobs J (its speedup over psql -f is
what this machine allows --jobs J)."""


def _num(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def _targets(row: Row) -> str:
    parts = []
    for target in row.targets:
        value = row.figure(target.figure)
        shown = "" if value is None else f" ({value:.2f})"
        parts.append(f"{target.label}{shown} {target.status(value)}")
    return "; ".join([*parts, *row.notes])


def cells(row: Row) -> tuple[str, ...]:
    head = (row.db, row.tool, row.case, row.size)
    if row.error:
        shown = row.error if row.error.startswith("n/a") else f"not available ({row.error})"
        return (*head, shown)
    return (
        *head,
        _num(row.wall, ".3f"),
        _num(row.ratio, ".2f", "x"),
        _num(row.own, ".2f"),
        _num(row.per_mig_ms, ".2f"),
        _num(row.peak, ".0f"),
    )


def render(rows: Sequence[Row]) -> str:
    """The table, fixed-width, with the targets in a last column."""
    body = [cells(row) for row in rows]
    full = [c for c in body if len(c) == len(HEADER)]
    widths = [max(len(c[i]) for c in [HEADER, *full]) for i in range(len(HEADER))]
    head_widths = [max(len(c[i]) for c in [HEADER, *body]) for i in range(4)]
    widths[:4] = head_widths
    lines = [_line(HEADER, widths) + "  target; notes"]
    lines.append("-" * (sum(widths) + 2 * len(widths) + 6))
    for row, cell in zip(rows, body, strict=True):
        lines.append((_line(cell, widths) + "  " + _targets(row)).rstrip())
    return "\n".join(lines)


def _line(cell: Sequence[str], widths: Sequence[int]) -> str:
    out = []
    for i, value in enumerate(cell):
        if i >= len(widths) or len(cell) < len(HEADER) and i == len(cell) - 1 and i >= 4:
            out.append(value)
        elif i < 4:
            out.append(value.ljust(widths[i]))
        else:
            out.append(value.rjust(widths[i]))
    return "  ".join(out)


def as_json(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Machine-readable rows: medians, every round's figure, and target results."""
    return [
        {
            "db": r.db,
            "tool": r.tool,
            "case": r.case,
            "size": r.size,
            "error": r.error,
            "wall_s": r.wall,
            "ratio_to_floor": r.ratio,
            "own_ms_per_migration": r.own,
            "ms_per_migration": r.per_mig_ms,
            "peak_rss_mb": r.peak,
            "speedup": r.speedup,
            "rounds": {"wall_s": r.walls, "ratio": r.ratios, "own_ms": r.own_ms},
            "targets": [
                {"target": t.label, "status": t.status(r.figure(t.figure))} for t in r.targets
            ],
            "notes": r.notes,
        }
        for r in rows
    ]
