"""Squash baselines without a server: the header, pg_dump's cleaning, ordering, planning."""

from __future__ import annotations

from pathlib import Path

import pytest

from whimbrel.errors import TargetNotFoundError
from whimbrel.generators.naming import same_name_migrations, used_versions
from whimbrel.migrator import squashed
from whimbrel.migrator.files import MigrationFile, discover
from whimbrel.migrator.plan import plan
from whimbrel.structure.baseline import _parents_first, clean_pg_dump

PG_DUMP = """--
-- PostgreSQL database dump
--

\\restrict AbC123

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SELECT pg_catalog.set_config('search_path', '', false);

CREATE TYPE public.mood AS ENUM (
    'happy'
);

CREATE FUNCTION public.touch() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  -- keep this comment and public.x as written
  SET x = 1;
  RETURN NEW;
END $$;

CREATE TABLE public.users (
    id bigint NOT NULL,
    mood public.mood DEFAULT 'happy'::public.mood
);

ALTER TABLE ONLY public.users ALTER COLUMN id SET DEFAULT nextval('public.users_id_seq'::regclass);
CREATE VIEW reporting.v AS SELECT 1;

\\unrestrict AbC123
"""


def test_pg_dump_loses_its_session_lines_and_the_public_qualification() -> None:
    cleaned = clean_pg_dump(PG_DUMP, "public")
    assert cleaned.startswith("CREATE TYPE mood AS ENUM (")
    for gone in ("restrict", "SET statement_timeout", "set_config", "-- PostgreSQL", "public.u"):
        assert gone not in cleaned
    assert "mood mood DEFAULT 'happy'::mood" in cleaned
    assert "nextval('users_id_seq'::regclass)" in cleaned
    assert "-- keep this comment and public.x as written\n  SET x = 1;" in cleaned  # a $$ body
    assert "CREATE VIEW reporting.v" in cleaned  # another schema stays qualified
    assert "\n\n\n" not in cleaned


def test_the_header_round_trips_and_wraps() -> None:
    text = squashed.header(range(1, 13), "abc", per_line=5) + "-- note\n-- whimbrel:up\nSELECT 1;\n"
    assert text.splitlines()[:4] == [
        "-- whimbrel:squashes 1 2 3 4 5",
        "-- whimbrel:squashes 6 7 8 9 10",
        "-- whimbrel:squashes 11 12",
        "-- whimbrel:squashed-checksum abc",
    ]
    baseline = squashed.parse(12, text)
    assert baseline == squashed.Baseline(12, tuple(range(1, 13)), "abc")
    assert baseline.replaced == tuple(range(1, 12))
    assert squashed.parse(12, "-- whimbrel:up\n-- whimbrel:squashes 1 2\n") is None  # not a header


def test_baselines_are_read_from_squashed_files_only(tmp_path: Path) -> None:
    (tmp_path / "20_squashed.sql").write_text("-- whimbrel:squashes 10 20\n-- whimbrel:up\n")
    (tmp_path / "30_other.sql").write_text("-- whimbrel:squashes 1 2\n-- whimbrel:up\n")
    (tmp_path / "squashed").mkdir()
    (tmp_path / "squashed" / "10_first.py").write_text("def change(): pass\n")
    found = discover(tmp_path)
    assert [f.version for f in found] == [20, 30]  # squashed/ is not read
    assert squashed.covered(found) == {10: 20}


def test_parents_come_first_and_a_cycle_keeps_the_order() -> None:
    assert _parents_first(["posts", "users"], [("posts", "users")]) == ["users", "posts"]
    cycle = [("a", "b"), ("b", "a")]
    assert _parents_first(["a", "b", "c"], cycle) == ["a", "b", "c"]


def test_a_rollback_leaves_replaced_versions_to_the_baseline() -> None:
    files = [MigrationFile(20, "squashed", Path("20_squashed.sql")), MigrationFile(30, "x", Path())]
    chosen = plan("down", ("all", None), files, [10, 20, 30], replaced={10: 20})
    assert [f.version for f in chosen] == [30, 20]
    with pytest.raises(TargetNotFoundError, match="squashed into 20"):
        plan("down", ("to", 10), files, [10, 20, 30], replaced={10: 20})


def test_generators_do_not_count_squashed_files_as_migrations(tmp_path: Path) -> None:
    (tmp_path / "squashed").mkdir()
    (tmp_path / "squashed" / "10_create_library.py").write_text("")
    (tmp_path / "30_create_library.py").write_text("")
    assert same_name_migrations(tmp_path, "create_library") == [tmp_path / "30_create_library.py"]
    assert 10 in used_versions(tmp_path)  # its version is not handed out again
