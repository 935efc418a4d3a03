"""Progress of a migration run (``whimbrel.progress``): a ``\\r`` line on a terminal,
plain lines in a pipe, nothing with ``-q``. The terminal is a real pty."""

from __future__ import annotations

import io
import logging
import os
import select
import subprocess
from pathlib import Path

from migration_helpers import cli_command, cli_env, migrator, write_table_migrations

from whimbrel.progress import NullProgress, PlainProgress, TerminalProgress, progress_for

VERSIONS = [10, 20, 30, 40, 50]


class Clock:
    """A clock that advances half a second per reading."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


def drain(master: int, quiet_for: float = 1.0) -> str:
    """Everything waiting on a pty's master side.

    One ``os.read`` returns what the line discipline has ready, which may be
    only part of what was written; read until nothing more arrives for
    ``quiet_for`` seconds.
    """
    chunks = []
    while select.select([master], [], [], quiet_for)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other end is closed and everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def run_in_pty(args: list[str], cwd: Path) -> str:
    """Run a command with stdout and stderr on a new pty; return everything it wrote."""
    master, slave = os.openpty()
    proc = subprocess.Popen(args, cwd=cwd, env=cli_env(), stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode()
    return b"".join(chunks).decode()


def test_plain_lines_count_name_and_time() -> None:
    out = io.StringIO()
    progress = PlainProgress(out, clock=Clock())
    progress.on_start(4)
    for index, label in enumerate(["1_a", "2_b", "3_c", "4_d"], 1):
        progress.on_migration(index, label)
    progress.on_done()
    assert out.getvalue().splitlines() == [
        "[1/4] 1_a  0.5s",
        "[2/4] 2_b  1.0s",
        "[3/4] 3_c  1.5s",
        "[4/4] 4_d  2.0s",
        "4/4 migrations in 2.5s",
    ]


def test_a_failed_run_says_where_it_stopped() -> None:
    out = io.StringIO()
    progress = PlainProgress(out, clock=Clock())
    progress.on_start(5)
    progress.on_migration(1, "1_a")
    progress.on_migration(2, "2_b")
    progress.on_done(failed=True)
    assert out.getvalue().splitlines()[-1] == "stopped after 1/5 migrations, 1.5s"


def test_short_runs_and_quiet_print_nothing() -> None:
    out = io.StringIO()
    progress = progress_for(out)
    assert isinstance(progress, PlainProgress)
    progress.on_start(3)
    for index in (1, 2, 3):
        progress.on_migration(index, f"{index}_x")
    progress.on_done()
    assert out.getvalue() == ""
    assert isinstance(progress_for(out, quiet=True), NullProgress)


def test_terminal_progress_rewrites_one_line_through_the_migrator(tmp_path: Path) -> None:
    """A real run on a pty: one line redrawn with \\r, the ``==`` log lines held back,
    a warning not glued to the progress text."""
    write_table_migrations(tmp_path, VERSIONS)
    master, slave = os.openpty()
    stream = os.fdopen(slave, "w")
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("whimbrel")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        progress = progress_for(stream)
        assert isinstance(progress, TerminalProgress)
        with migrator(tmp_path, f"sqlite:///{tmp_path}/t.db") as m:
            m.progress = progress
            assert m.up() == VERSIONS
            logger.warning("after the run")
        stream.flush()
        text = drain(master)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        stream.close()
        os.close(master)
    assert "== Running" not in text and "== Migrated" not in text
    for index, version in enumerate(VERSIONS, 1):
        assert f"\r\x1b[K[{index}/5] {version}_create_t{version}  " in text
    assert "\r\x1b[K5/5 migrations in " in text
    lines = text.replace("\r\n", "\n").split("\n")
    assert lines[-2] == "after the run"  # on its own line, after the finished progress line
    assert "\n" not in text.split("[1/5]")[1].split("5/5 migrations")[0]  # one line throughout


def test_cli_on_a_terminal_pipe_and_quiet(tmp_path: Path) -> None:
    write_table_migrations(tmp_path, VERSIONS)
    url = f"sqlite:///{tmp_path}/cli.db"
    on_tty = run_in_pty(cli_command(url, "migrate"), tmp_path)
    assert "\r\x1b[K[5/5] 50_create_t50" in on_tty and "5/5 migrations in" in on_tty
    assert "== Running" not in on_tty

    assert run_in_pty(cli_command(url, "rollback", "--all"), tmp_path)
    piped = subprocess.run(
        cli_command(url, "migrate"), cwd=tmp_path, env=cli_env(), capture_output=True, text=True
    )
    assert piped.returncode == 0
    assert "\r" not in piped.stderr
    assert "[3/5] 30_create_t30  " in piped.stderr and "== Migrated 30 in " in piped.stderr
    assert "== Running" not in piped.stderr  # the progress line says the same

    rolled = run_in_pty(cli_command(url, "-q", "rollback", "--all"), tmp_path)
    assert rolled == ""
