"""Fixtures of the catalog round-trip suite: ``rt``, one fresh database per case per backend.

The suite sits one folder below ``tests/integration`` and shares its helpers
(``migration_helpers``, ``backends``), so that folder goes on ``sys.path`` as
pytest's prepend import mode does for the files directly in it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_harness import RoundTrip  # noqa: E402


@pytest.fixture
def rt(tmp_path: Path, db_url: str) -> RoundTrip:
    """A round trip on the ``db_url`` backend (sqlite, postgres, mysql), in its own project."""
    return RoundTrip(tmp_path, db_url)
