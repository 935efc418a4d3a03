"""Regeneration rules of `gen domain`: version reuse, duplicates, hand edits, dry runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden.cases import GOLDEN
from whimbrel.errors import UsageError
from whimbrel.generators import generate_domain, load_domain, render_domain
from whimbrel.generators.domain.stamp import stamp, untouched

LIBRARY = GOLDEN / "domain" / "library.toml"
NAME = "create_library_tables.py"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "migrations"


def _source(version: str) -> str:
    return render_domain(load_domain(LIBRARY), version)[1]


def test_render_is_pure_and_byte_stable() -> None:
    domain = load_domain(LIBRARY)
    first = render_domain(domain, "20260101000000", Path("m"))
    assert first == render_domain(domain, "20260101000000", Path("m"))
    assert first[0] == Path("m") / f"20260101000000_{NAME}"


def test_first_run_creates_the_file(folder: Path) -> None:
    result = generate_domain(LIBRARY, folder, version="20260101000000")
    assert (result.status, result.path) == ("created", folder / f"20260101000000_{NAME}")
    assert result.path.read_text() == _source("20260101000000")


def test_regenerating_reuses_the_version_and_rewrites_the_same_file(folder: Path) -> None:
    first = generate_domain(LIBRARY, folder)
    again = generate_domain(LIBRARY, folder)
    assert (again.path, again.status) == (first.path, "unchanged")
    assert [p.name for p in folder.iterdir()] == [first.path.name]


def test_a_changed_domain_updates_the_untouched_file(folder: Path, tmp_path: Path) -> None:
    old = generate_domain(LIBRARY, folder, version="20250101000000")
    changed = tmp_path / "library.toml"
    changed.write_text(LIBRARY.read_text() + '\n[entities.loan]\nfields.due = "date"\n')
    new = generate_domain(changed, folder)
    assert (new.path, new.status) == (old.path, "updated")
    assert 'create(table("loans"' in new.path.read_text()


def test_the_file_is_found_in_a_sub_folder(folder: Path) -> None:
    (folder / "2025").mkdir(parents=True)
    old = folder / "2025" / f"20250101000000_{NAME}"
    old.write_text(_source("20250101000000"))
    assert generate_domain(LIBRARY, folder).path == old


def test_several_matches_reuse_the_oldest_and_warn_about_the_others(folder: Path) -> None:
    folder.mkdir()
    for version in ("20250303000000", "20250101000000", "20250202000000"):
        (folder / f"{version}_{NAME}").write_text(_source(version))
    result = generate_domain(LIBRARY, folder)
    assert result.path == folder / f"20250101000000_{NAME}"
    (warning,) = result.warnings
    assert f"20250202000000_{NAME}" in warning and f"20250303000000_{NAME}" in warning
    assert "delete the others" in warning
    assert (folder / f"20250303000000_{NAME}").read_text() == _source("20250303000000")


def test_a_pinned_version_ignores_other_files_but_warns(folder: Path) -> None:
    folder.mkdir()
    (folder / f"20250101000000_{NAME}").write_text(_source("20250101000000"))
    result = generate_domain(LIBRARY, folder, version="20260101000000")
    assert (result.path.name, result.status) == (f"20260101000000_{NAME}", "created")
    assert f"20250101000000_{NAME}" in result.warnings[0]


def test_a_pinned_version_taken_by_another_migration_is_refused(folder: Path) -> None:
    folder.mkdir()
    (folder / "20260101000000_create_posts.py").write_text("")
    with pytest.raises(UsageError, match="is the version of .*create_posts.py already"):
        generate_domain(LIBRARY, folder, version="20260101000000")


def test_a_file_edited_by_hand_is_refused_without_force(folder: Path) -> None:
    path = generate_domain(LIBRARY, folder, version="20260101000000").path
    edited = path.read_text().replace('add("bio", "text")', 'add("bio", "text", null=False)')
    path.write_text(edited)
    with pytest.raises(UsageError, match="was edited by hand .* pass --force") as info:
        generate_domain(LIBRARY, folder)
    assert info.value.exit_code == 2
    assert path.read_text() == edited
    assert generate_domain(LIBRARY, folder, force=True).status == "updated"
    assert path.read_text() == _source("20260101000000")


def test_a_file_without_the_marker_counts_as_edited(folder: Path) -> None:
    folder.mkdir()
    path = folder / f"20260101000000_{NAME}"
    path.write_text("from whimbrel.migration import *\n\n\ndef change():\n    pass\n")
    with pytest.raises(UsageError, match="edited by hand"):
        generate_domain(LIBRARY, folder)


def test_dry_run_writes_nothing_and_says_what_force_would_do(folder: Path) -> None:
    result = generate_domain(LIBRARY, folder, version="20260101000000", dry_run=True)
    assert result.status == "dry-run" and not folder.exists()
    assert result.source == _source("20260101000000")
    path = generate_domain(LIBRARY, folder).path
    path.write_text(path.read_text() + "# mine\n")
    result = generate_domain(LIBRARY, folder, dry_run=True)
    assert "without --force, writing would be refused" in result.warnings[0]
    assert path.read_text().endswith("# mine\n")


def test_bad_domain_writes_nothing(folder: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('domain = "x"\n[entities.a]\nfields.f = "nope"\n')
    with pytest.raises(UsageError, match="entity 'a', field 'f': unknown type 'nope'"):
        generate_domain(bad, folder)
    assert not folder.exists()


def test_checksum_survives_crlf_and_catches_any_edit() -> None:
    text = _source("20260101000000")
    assert untouched(text)
    assert untouched(text.replace("\n", "\r\n"))
    assert not untouched(text.replace("nilify_all", "delete_all", 1))
    assert not untouched(text.replace("sha256=", "sha256=0", 1)[:-1])
    assert stamp(text) == text
