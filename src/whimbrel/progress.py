"""Progress of a migration run: one updating line on a terminal, plain lines elsewhere.

The migrator calls an observer with three methods (``on_start(total)``,
``on_migration(index, label)``, ``on_done(failed=False)``) and knows nothing about
terminals; ``Migrator.progress`` holds it and defaults to ``NullProgress``.
The CLI picks a reporter with ``progress_for(stream, quiet=...)``.

Example::

    import sys
    from whimbrel.progress import progress_for

    migrator.progress = progress_for(sys.stderr)
    migrator.up()        # on a terminal: "[12/30] 20260101120000_add_users  1.4s"

Only runs of more than ``threshold`` migrations (3 by default) report: two
migrations need no progress bar, and the migrator's own log lines say enough.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Protocol, TextIO

#: The migrator's line as a migration starts (``runner.MigrationRunner.apply``).
_START = re.compile(r"== (\[[^\]]+\] )?Running \d+ ")

#: Runs of this many migrations or fewer print nothing extra.
DEFAULT_THRESHOLD = 3


class Progress(Protocol):
    """What the migrator calls while it runs a plan."""

    def on_start(self, total: int) -> None: ...
    def on_migration(self, index: int, label: str) -> None: ...
    def on_done(self, failed: bool = False) -> None: ...


class NullProgress:
    """Reports nothing: the default, and what ``-q`` and dry runs get."""

    def on_start(self, total: int) -> None:
        pass

    def on_migration(self, index: int, label: str) -> None:
        pass

    def on_done(self, failed: bool = False) -> None:
        pass


class _Reporter:
    """What the plain and terminal reporters share: counting and timing."""

    def __init__(
        self,
        stream: TextIO,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.threshold = threshold
        self.clock = clock
        self.total = 0
        self.done = 0
        self.started = 0.0

    @property
    def active(self) -> bool:
        return self.total > self.threshold

    def on_start(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, self.clock()

    def status(self, index: int, label: str) -> str:
        """``[ 3/30] 20260101120000_add_users  1.4s``: done so far, current, elapsed."""
        width = len(str(self.total))
        return f"[{index:>{width}}/{self.total}] {label}  {self.elapsed():.1f}s"

    def elapsed(self) -> float:
        return self.clock() - self.started

    def finish(self, failed: bool) -> str:
        """The last line: how many ran and how long it took, or where it stopped."""
        if failed:
            return f"stopped after {self.done}/{self.total} migrations, {self.elapsed():.1f}s"
        return f"{self.total}/{self.total} migrations in {self.elapsed():.1f}s"

    def write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


class PlainProgress(_Reporter):
    """One line per migration, for logs and pipes where ``\\r`` would be noise.

    While it is active the migrator's ``== Running ...`` log line is held back:
    the progress line names the same migration, with the count and the time.
    ``== Migrated ... in 0.12s`` still follows each one.
    """

    def __init__(self, stream: TextIO, **kwargs: object) -> None:
        super().__init__(stream, **kwargs)  # type: ignore[arg-type]
        self._filter = _StartLineFilter()

    def on_start(self, total: int) -> None:
        super().on_start(total)
        if self.active:
            logging.getLogger("whimbrel").addFilter(self._filter)

    def on_migration(self, index: int, label: str) -> None:
        self.done = index - 1
        if self.active:
            self.write(self.status(index, label) + "\n")

    def on_done(self, failed: bool = False) -> None:
        if self.active:
            logging.getLogger("whimbrel").removeFilter(self._filter)
            self.write(self.finish(failed) + "\n")


class _StartLineFilter(logging.Filter):
    """Drops ``== Running 10 create_posts (up)`` (and ``== [tenant] Running ...``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno <= logging.INFO and _START.match(record.getMessage()))


class TerminalProgress(_Reporter):
    """One line rewritten in place (``\\r``) with the count, the migration and the time.

    While it is active the migrator's per-migration ``== ...`` log lines are held
    back (the line says the same) and any other log line first clears it, so
    warnings are not glued to the progress text.
    """

    def __init__(self, stream: TextIO, **kwargs: object) -> None:
        super().__init__(stream, **kwargs)  # type: ignore[arg-type]
        self._filter = _LineFilter(self)
        self._shown = False

    def on_start(self, total: int) -> None:
        super().on_start(total)
        if self.active:
            logging.getLogger("whimbrel").addFilter(self._filter)

    def on_migration(self, index: int, label: str) -> None:
        self.done = index - 1
        if self.active:
            self.show(self.status(index, label))

    def on_done(self, failed: bool = False) -> None:
        if not self.active:
            return
        logging.getLogger("whimbrel").removeFilter(self._filter)
        self.show(self.finish(failed))
        self.write("\n")
        self._shown = False

    def show(self, text: str) -> None:
        import shutil  # only on a terminal: its import pulls in bz2 and lzma

        columns = shutil.get_terminal_size((80, 24)).columns
        # Cut to the terminal's width: a wrapped line cannot be rewritten by \r.
        self.write("\r\x1b[K" + text[: max(columns - 1, 10)])
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.write("\r\x1b[K")
            self._shown = False


class _LineFilter(logging.Filter):
    def __init__(self, progress: TerminalProgress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.INFO and str(record.msg).startswith("== "):
            return False
        self.progress.clear()
        return True


def progress_for(stream: TextIO, *, quiet: bool = False) -> Progress:
    """The reporter for ``stream``: nothing when quiet, ``\\r`` on a terminal, else plain lines.

    Example::

        >>> import io
        >>> type(progress_for(io.StringIO())).__name__
        'PlainProgress'
    """
    if quiet:
        return NullProgress()
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return TerminalProgress(stream)
    return PlainProgress(stream)
