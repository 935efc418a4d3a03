"""The inputs behind the golden files, shared by the golden and the PostgreSQL tests.

Each golden file is what a generator renders for a fixed input at the pinned
``VERSION``. ``golden`` reads one; with ``WHIMBREL_UPDATE_GOLDEN=1`` it rewrites
the file instead (then review the diff like any other change).
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent
VERSION = "20260101000000"

#: template -> the NAME it is rendered for.
TEMPLATE_NAMES = {
    "blank": "blank",
    "create_table": "create_posts",
    "alter_table": "alter_posts",
    "add_column": "add_summary_to_posts",
    "add_index": "add_title_and_slug_index_to_posts",
    "add_foreign_key": "add_author_id_to_posts",
    "add_trigger": "add_updated_at_trigger_to_posts",
    "create_enum": "create_post_status",
}

#: golden file -> the options of generate_outbox / Outbox.
OUTBOX_CASES = {
    "default": {},
    "no_index": {"indexes": False},
    "prefix": {"table": "events", "prefix": "queue"},
}

#: domain files (in golden/domain/) with a golden rendering beside each.
DOMAINS = ("library", "crm")


def golden(relative: str, actual: str) -> str:
    """The golden file's text, to compare with ``actual`` in the test (so pytest shows
    the diff); with ``WHIMBREL_UPDATE_GOLDEN=1`` it is rewritten to ``actual`` first."""
    path = GOLDEN / relative
    if os.environ.get("WHIMBREL_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run with WHIMBREL_UPDATE_GOLDEN=1 to create it"
    return path.read_text(encoding="utf-8")
