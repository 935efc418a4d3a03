"""Round trips that fail today, by test id: each becomes a strict xfail with its reason.

Each entry is written up in FINDINGS.md (the failing statement, the server's
error). When one is fixed, its test passes, the strict xfail turns that into a
failure, and the entry is removed from this table and from FINDINGS.md. None
is open now (F1-F7 were fixed in issue 9).
"""

from __future__ import annotations

KNOWN_BUGS: dict[str, str] = {}
