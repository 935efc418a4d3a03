"""Round trips that fail today, by test id: each becomes a strict xfail with its reason.

Each entry names the failing statement and the server's error (a FINDINGS.md
beside this file holds the long form while any is open). When one is fixed,
its test passes, the strict xfail turns that into a failure, and the entry is
removed. None is open now: F1-F7 of the first run were fixed in issue 9.
"""

from __future__ import annotations

KNOWN_BUGS: dict[str, str] = {}
