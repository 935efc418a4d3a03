"""``whimbrel lint``: production-safety rules over what migrations really do.

Lint records each migration's ``up`` as the migrator would (the DSL's
commands, ``execute`` SQL parsed, ``repo().execute`` data changes), so it sees
the statements that will run, not the file's text. Each finding names the
rule, the file and line of the DSL call, why the operation is dangerous in
production and the safe sequence of migrations. ``docs/lint.md`` lists the
rules.

Example::

    from whimbrel.lint import lint_paths

    for finding in lint_paths(["migrations"], database="postgresql"):
        print(finding)        # path:line: rule: message, then the fix

A migration silences rules it has checked with a module-level
``safety_assured = ["dropping-column"]``.
"""

from __future__ import annotations

import logging

from whimbrel.lint.engine import (
    Finding,
    LintFindingsError,
    before_migrate,
    database_of,
    lint_migrations,
    lint_paths,
    safety_assured,
)
from whimbrel.lint.rules import RULES, Rule, all_rules, applicable

# sqlglot logs a warning for every statement it keeps as an opaque Command; lint reads those.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

__all__ = [
    "RULES",
    "Finding",
    "LintFindingsError",
    "Rule",
    "all_rules",
    "applicable",
    "before_migrate",
    "database_of",
    "lint_migrations",
    "lint_paths",
    "safety_assured",
]
