"""The checksum in a generated file's header: was the file edited since it was written?

The header line ``# whimbrel:generated domain=<name> sha256=<16 hex>`` carries
the first 16 hex digits of the SHA-256 of the whole file, computed with that
digest left empty. Regeneration overwrites a file whose checksum still
matches (nobody touched it) and refuses, unless forced, one that was edited.
Line endings are normalised first, so a checkout with CRLF still matches.

Example::

    >>> text = stamp("# whimbrel:generated domain=shop sha256=\\nx = 1\\n")
    >>> untouched(text), untouched(text + "y = 2\\n"), untouched("x = 1\\n")
    (True, False, False)
"""

from __future__ import annotations

import hashlib
import re

_MARK = re.compile(r"^(# whimbrel:generated domain=\S+ sha256=)([0-9a-f]{16})?$", re.MULTILINE)
_DIGITS = 16


def _digest(unstamped: str) -> str:
    return hashlib.sha256(unstamped.encode("utf-8")).hexdigest()[:_DIGITS]


def _unstamped(text: str) -> str:
    return _MARK.sub(lambda m: m[1], text, count=1)


def stamp(text: str) -> str:
    """Fill the header's empty ``sha256=`` with the file's checksum."""
    digest = _digest(_unstamped(text))
    return _MARK.sub(lambda m: m[1] + digest, text, count=1)


def untouched(text: str) -> bool:
    """True when ``text`` carries a checksum that still matches it."""
    text = text.replace("\r\n", "\n")
    match = _MARK.search(text)
    return match is not None and match[2] == _digest(_unstamped(text))
