"""How long ``whimbrel lint`` takes on 1,000 migrations.

Generates N migrations (1,000 by default) into a temporary folder: a mix of
DSL table creations, column changes, indexes, constraints, raw ``execute``
SQL and ``.sql`` files, some safe and some not, so every rule and the SQL
parser are exercised. Then it times:

- **library**: ``whimbrel.lint.lint_paths([folder])`` in this process (load,
  record, parse, rules), best of ``--repeat``;
- **cli**: the whole ``whimbrel lint --json`` process, interpreter start-up
  included, best of ``--repeat``.

No database is needed: lint never connects. Run it from the repository root::

    .venv/bin/python bench/lint_1000.py                 # N=1000, best of 3
    .venv/bin/python bench/lint_1000.py --n 200 --json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HEAD = "from whimbrel.migration import *\n\n"

#: One template per kind of migration; {i} is the migration's number.
PY_TEMPLATES = [
    # a new table with an index on it (safe: the table is new)
    """def change():
    with create(table("t_{i}")):
        add("name", "string", null=False)
        add("score", "integer", default=0)
        add("owner_id", references("users"))
        timestamps()
    create(index("t_{i}", ["name"]))
""",
    # an index on an earlier table, without concurrently (require-concurrent-index)
    """def change():
    create(index("t_{p}", ["score"], name="t_{p}_score_{i}"))
""",
    # the safe rewrite: concurrently, outside a transaction
    """disable_ddl_transaction = True

def change():
    create(index("t_{p}", ["inserted_at"], name="t_{p}_at_{i}", concurrently=True))
""",
    # column changes on an earlier table: a widening (safe) and a NOT NULL (setting-not-null)
    """def change():
    with alter(table("t_{p}")):
        add("note_{i}", "text")
        modify("name", "string", size=500)
        modify("score", "integer", null=False)
""",
    # raw SQL: a validated foreign key and an unbatched backfill
    """def up():
    execute("ALTER TABLE t_{p} ADD CONSTRAINT t_{p}_fk_{i} FOREIGN KEY (owner_id) "
            "REFERENCES users (id) NOT VALID")
    execute("UPDATE t_{p} SET score = 0 WHERE id < 1000")

def down():
    pass
""",
]
SQL_TEMPLATE = """-- whimbrel:up
ALTER TABLE t_{p} ADD COLUMN extra_{i} uuid DEFAULT gen_random_uuid();
CREATE INDEX t_{p}_extra_{i} ON t_{p} (extra_{i});
-- whimbrel:down
DROP INDEX t_{p}_extra_{i};
ALTER TABLE t_{p} DROP COLUMN extra_{i};
"""


def generate(folder: Path, n: int) -> None:
    """N migration files; every fifth is a new table, the others work on the last one."""
    (folder / "1_create_users.py").write_text(
        HEAD + 'def change():\n    with create(table("users")):\n        add("email", "text")\n'
    )
    last_table = 2
    for i in range(2, n + 1):
        kind = i % 6
        if kind == 0:
            (folder / f"{i}_m{i}.sql").write_text(SQL_TEMPLATE.format(i=i, p=last_table))
            continue
        if kind == 1 or i == 2:
            kind, last_table = 0, i
        source = PY_TEMPLATES[kind % len(PY_TEMPLATES)].format(i=i, p=last_table)
        (folder / f"{i}_m{i}.py").write_text(HEAD + source)


def time_library(folder: Path, repeat: int) -> tuple[float, Counter[str]]:
    from whimbrel.lint import lint_paths

    best, rules = float("inf"), Counter[str]()
    for _ in range(repeat):
        started = time.perf_counter()
        findings = lint_paths([folder], database="postgresql")
        best = min(best, time.perf_counter() - started)
        rules = Counter(f.rule for f in findings)
    return best, rules


def time_cli(project: Path, repeat: int) -> float:
    command = [sys.executable, "-m", "whimbrel", "--database-url", "postgresql://x@127.0.0.1:9/x"]
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "lint", "--json"], cwd=project, capture_output=True, text=True, check=False
        )
        best = min(best, time.perf_counter() - started)
        if done.returncode not in (0, 1):
            raise SystemExit(f"whimbrel lint failed ({done.returncode}):\n{done.stderr}")
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=1000, help="number of migrations (1000)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (3)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="whimbrel-lint-bench-") as tmp:
        project = Path(tmp)
        folder = project / "migrations"
        folder.mkdir()
        generate(folder, args.n)
        library, rules = time_library(folder, args.repeat)
        cli = time_cli(project, args.repeat)
    result = {
        "migrations": args.n,
        "library_s": round(library, 3),
        "library_ms_per_migration": round(library / args.n * 1000, 3),
        "cli_s": round(cli, 3),
        "findings": sum(rules.values()),
        "findings_by_rule": dict(sorted(rules.items())),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"lint of {args.n} migrations (best of {args.repeat}):")
    print(f"  library (lint_paths): {library:.2f} s, {result['library_ms_per_migration']} ms each")
    print(f"  cli (whimbrel lint --json, whole process): {cli:.2f} s")
    print(f"  findings: {result['findings']}")
    for name, count in result["findings_by_rule"].items():
        print(f"    {name}: {count}")


if __name__ == "__main__":
    main()
