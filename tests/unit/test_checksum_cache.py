"""``FileChecksums``: checksums remembered by ``stat``, as git's index remembers hashes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from whimbrel.migrator.checksums import FileChecksums, file_checksum


def _migration(folder: Path, text: str = "def change():\n    pass\n") -> Path:
    path = folder / "10_create_posts.py"
    path.write_text(text)
    return path


def _cache_file(cache_dir: Path, folder: Path) -> Path:
    named = FileChecksums(str(cache_dir)).file(str(folder))
    assert named is not None
    return Path(named)


def _trusting(cache_dir: Path) -> FileChecksums:
    """A cache that keeps entries for files changed just now (the tests' files are)."""
    cache = FileChecksums(str(cache_dir))
    cache.RACY_S = -1.0
    return cache


def test_an_unchanged_file_is_answered_from_the_cache(tmp_path: Path) -> None:
    path = _migration(tmp_path)
    with _trusting(tmp_path / "cache") as checksum:
        assert checksum(path) == file_checksum(path)
    # Plant a different answer: the next run must return it without reading the file.
    cache_file = _cache_file(tmp_path / "cache", tmp_path)
    data = json.loads(cache_file.read_text())
    data["entries"][str(path)][4] = "planted"
    cache_file.write_text(json.dumps(data))
    with _trusting(tmp_path / "cache") as checksum:
        assert checksum(path) == "planted"


def test_an_edit_is_seen_whatever_the_cache_holds(tmp_path: Path) -> None:
    path = _migration(tmp_path)
    with _trusting(tmp_path / "cache") as checksum:
        before = checksum(path)
    stat = path.stat()
    path.write_text("def change():\n    pas_\n")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old mtime
    with _trusting(tmp_path / "cache") as checksum:
        after = checksum(path)
    assert after == file_checksum(path) != before  # the change time still differs


def test_a_file_changed_just_now_is_not_cached(tmp_path: Path) -> None:
    """Racy entries: an edit in the same clock tick as the hash would go unseen."""
    path = _migration(tmp_path)
    with FileChecksums(str(tmp_path / "cache")) as checksum:
        checksum(path)
    assert not (tmp_path / "cache").exists()


def test_old_files_are_cached_with_the_default_margin(tmp_path: Path) -> None:
    path = _migration(tmp_path)
    old = path.stat().st_mtime_ns - 10**10
    os.utime(path, ns=(old, old))
    with FileChecksums(str(tmp_path / "cache")) as checksum:
        checksum(path)
    # the change time is what utime just set: recent, so still not trusted
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("content", ["{not json", '{"version": 99}', "[]", ""])
def test_an_unreadable_cache_is_ignored_and_replaced(tmp_path: Path, content: str) -> None:
    path = _migration(tmp_path)
    (tmp_path / "cache").mkdir()
    _cache_file(tmp_path / "cache", tmp_path).write_text(content)
    with _trusting(tmp_path / "cache") as checksum:
        assert checksum(path) == file_checksum(path)
    data = json.loads(_cache_file(tmp_path / "cache", tmp_path).read_text())
    assert data["version"] == FileChecksums.VERSION and str(path) in data["entries"]


def test_off_turns_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHIMBREL_CACHE_DIR", "off")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    path = _migration(tmp_path)
    with FileChecksums() as checksum:
        checksum.RACY_S = -1.0
        assert checksum(path) == file_checksum(path)
    assert not (tmp_path / "home").exists()


def test_an_unwritable_cache_folder_costs_nothing(tmp_path: Path) -> None:
    path = _migration(tmp_path)
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    with _trusting(blocker) as checksum:
        assert checksum(path) == file_checksum(path)


def test_each_folder_has_its_own_file_and_vanished_files_are_dropped(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    a, b, c = _migration(one), _migration(two), one / "20_more.py"
    c.write_text("x = 1\n")
    with _trusting(tmp_path / "cache") as checksum:
        for path in (a, b, c):
            checksum(path)
    first = json.loads(_cache_file(tmp_path / "cache", one).read_text())["entries"]
    assert set(first) == {str(a), str(c)}
    assert set(json.loads(_cache_file(tmp_path / "cache", two).read_text())["entries"]) == {str(b)}
    c.unlink()
    a.write_text("def change():\n    create(table('t'))\n")  # a change, so the file is rewritten
    with _trusting(tmp_path / "cache") as checksum:
        checksum(a)
    assert set(json.loads(_cache_file(tmp_path / "cache", one).read_text())["entries"]) == {str(a)}


def test_threads_writing_the_cache_at_once_use_their_own_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--jobs` workers hash the same folder at once: each writes through a temporary file
    of its own, so one cannot truncate or move another's half-written file."""
    import threading

    path = _migration(tmp_path)
    both_writing = threading.Barrier(2, timeout=10)
    temporaries: list[str] = []
    real_replace = os.replace

    def replace(source: str, target: str) -> None:
        temporaries.append(source)
        both_writing.wait()  # both threads have written their temporary file by now
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)

    def write_once() -> None:
        with _trusting(tmp_path / "cache") as checksum:
            checksum(path)

    workers = [threading.Thread(target=write_once) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(set(temporaries)) == 2, temporaries
    data = json.loads(_cache_file(tmp_path / "cache", tmp_path).read_text())
    assert list(data["entries"]) == [str(path)]
