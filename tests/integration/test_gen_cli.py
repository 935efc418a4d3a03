"""The `whimbrel gen` commands as a user runs them: output, exit codes, files written."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg
import pytest
from migration_helpers import Catalog, error_text, run_cli, write_config

from golden.cases import GOLDEN
from whimbrel.generators import relay_query

LIBRARY = GOLDEN / "domain" / "library.toml"


def _files(project: Path) -> list[str]:
    folder = project / "migrations"
    return sorted(p.name for p in folder.rglob("*.py")) if folder.exists() else []


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- gen migration --------------------------------------------------------------------------


def test_gen_migration_prints_the_path_of_a_new_file(tmp_path: Path, sqlite_url: str) -> None:
    out = _ok(
        run_cli(tmp_path, sqlite_url, "gen", "migration", "CreatePosts", "-t", "create_table")
    )
    path = Path(out.strip())
    assert re.fullmatch(r"[0-9]{14}_create_posts\.py", path.name)
    assert path.parent == (tmp_path / "migrations").resolve()
    assert 'with create(table("posts")):' in path.read_text()


def test_gen_migration_uses_the_configured_folder(tmp_path: Path, sqlite_url: str) -> None:
    write_config(tmp_path, migrations_path="db/migrations")
    out = _ok(run_cli(tmp_path, sqlite_url, "gen", "migration", "add_x"))
    assert Path(out.strip()).parent == (tmp_path / "db" / "migrations").resolve()


def test_gen_migration_refuses_a_name_in_use(tmp_path: Path, sqlite_url: str) -> None:
    _ok(run_cli(tmp_path, sqlite_url, "gen", "migration", "create_posts"))
    done = run_cli(tmp_path, sqlite_url, "gen", "migration", "create_posts")
    assert done.returncode == 2
    assert "a migration named 'create_posts' already exists" in error_text(done)
    assert len(_files(tmp_path)) == 1


def test_gen_migration_unknown_template_lists_them(tmp_path: Path, sqlite_url: str) -> None:
    done = run_cli(tmp_path, sqlite_url, "gen", "migration", "x", "--template", "nope")
    assert done.returncode == 2
    message = error_text(done)
    assert "unknown template 'nope'" in message
    assert "create_table, alter_table, add_column, add_index" in message
    assert _files(tmp_path) == []


# -- gen outbox -----------------------------------------------------------------------------


def test_gen_outbox_prints_the_path_then_how_to_apply_and_poll(
    tmp_path: Path, sqlite_url: str
) -> None:
    out = _ok(run_cli(tmp_path, sqlite_url, "gen", "outbox", "--table", "events"))
    first, rest = out.split("\n", 1)
    assert Path(first).name.endswith("_create_events.py") and Path(first).is_file()
    assert "    whimbrel migrate\n" in rest
    assert "    " + relay_query("events").replace("\n", "\n    ") + ";" in rest


@pytest.mark.parametrize("table", ["Events", "my events", "events;drop table x"])
def test_gen_outbox_refuses_bad_table_names(tmp_path: Path, sqlite_url: str, table: str) -> None:
    done = run_cli(tmp_path, sqlite_url, "gen", "outbox", "--table", table)
    assert done.returncode == 2
    assert "is not a plain identifier" in error_text(done)
    assert _files(tmp_path) == []


def test_outbox_end_to_end_on_postgres(tmp_path: Path, pg_url: str) -> None:
    out = _ok(run_cli(tmp_path, pg_url, "gen", "outbox", "--no-index"))
    assert "pending_idx" not in Path(out.split("\n", 1)[0]).read_text()
    _ok(run_cli(tmp_path, pg_url, "migrate"))
    with psycopg.connect(pg_url) as conn:
        assert conn.execute(relay_query()).fetchall() == []  # type: ignore[arg-type]
    _ok(run_cli(tmp_path, pg_url, "rollback"))
    assert Catalog(pg_url).user_tables() == set()


# -- gen domain -----------------------------------------------------------------------------


def test_gen_domain_writes_then_regenerates_the_same_file(tmp_path: Path, sqlite_url: str) -> None:
    first = _ok(run_cli(tmp_path, sqlite_url, "gen", "domain", str(LIBRARY))).strip()
    again = run_cli(tmp_path, sqlite_url, "gen", "domain", str(LIBRARY))
    assert _ok(again).strip() == first
    assert "unchanged: " in again.stderr
    assert _files(tmp_path) == [Path(first).name]


def test_gen_domain_timestamp_pins_the_output(tmp_path: Path, sqlite_url: str) -> None:
    args = ("gen", "domain", str(LIBRARY), "--timestamp", "20260101000000")
    out = _ok(run_cli(tmp_path, sqlite_url, *args)).strip()
    assert Path(out).name == "20260101000000_create_library_tables.py"
    assert Path(out).read_text() == (GOLDEN / "domain" / "library.py").read_text()


def test_gen_domain_dry_run_prints_the_source_only(tmp_path: Path, sqlite_url: str) -> None:
    args = ("gen", "domain", str(LIBRARY), "--timestamp", "20260101000000", "--dry-run")
    done = run_cli(tmp_path, sqlite_url, *args)
    assert _ok(done) == (GOLDEN / "domain" / "library.py").read_text()
    assert "dry run: would write" in done.stderr
    assert _files(tmp_path) == []


def test_gen_domain_hand_edits_need_force(tmp_path: Path, sqlite_url: str) -> None:
    path = Path(_ok(run_cli(tmp_path, sqlite_url, "gen", "domain", str(LIBRARY))).strip())
    path.write_text(path.read_text() + "# a hand edit\n")
    done = run_cli(tmp_path, sqlite_url, "gen", "domain", str(LIBRARY))
    assert done.returncode == 2
    assert "was edited by hand" in error_text(done) and "--force" in error_text(done)
    assert path.read_text().endswith("# a hand edit\n")
    _ok(run_cli(tmp_path, sqlite_url, "gen", "domain", str(LIBRARY), "--force"))
    assert not path.read_text().endswith("# a hand edit\n")


def test_gen_domain_warns_about_duplicates(tmp_path: Path, sqlite_url: str) -> None:
    source = (GOLDEN / "domain" / "library.py").read_text()
    (tmp_path / "migrations").mkdir()
    for version in ("20250101000000", "20250202000000"):
        (tmp_path / "migrations" / f"{version}_create_library_tables.py").write_text(source)
    done = run_cli(tmp_path, sqlite_url, "gen", "domain", str(LIBRARY))
    assert Path(_ok(done).strip()).name == "20250101000000_create_library_tables.py"
    assert "warning: other migrations share the name" in done.stderr
    assert "20250202000000_create_library_tables.py" in done.stderr


def test_gen_domain_bad_file_exits_2_naming_entity_and_field(
    tmp_path: Path, sqlite_url: str
) -> None:
    bad = tmp_path / "shop.toml"
    bad.write_text('domain = "shop"\n[entities.order]\nfields.total = "money"\n')
    done = run_cli(tmp_path, sqlite_url, "gen", "domain", str(bad))
    assert done.returncode == 2
    assert "entity 'order', field 'total': unknown type 'money'" in error_text(done)
    assert _files(tmp_path) == []


def test_gen_domain_invalid_toml_exits_2(tmp_path: Path, sqlite_url: str) -> None:
    bad = tmp_path / "shop.toml"
    bad.write_text('domain = "shop"\n[entities.order\n')
    done = run_cli(tmp_path, sqlite_url, "gen", "domain", str(bad))
    assert done.returncode == 2
    assert "invalid TOML" in error_text(done)


def test_domain_end_to_end_on_postgres(tmp_path: Path, pg_url: str) -> None:
    _ok(run_cli(tmp_path, pg_url, "gen", "domain", str(GOLDEN / "domain" / "crm.toml")))
    _ok(run_cli(tmp_path, pg_url, "migrate"))
    assert Catalog(pg_url).user_tables() == {"accounts", "contacts", "deals", "tags"}
    _ok(run_cli(tmp_path, pg_url, "rollback"))
    assert Catalog(pg_url).user_tables() == set()
