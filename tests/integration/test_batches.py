"""PostgreSQL: a transactional migration is one round trip, and its failures read as before.

``Capabilities.batches``: the executor holds a migration's statements and sends
``BEGIN; ...; version row; checksum rows; COMMIT`` as one query. The adapter
here is the real one, talking to the real server, with a count of the queries
it sends (each one a round trip). A failed batch is replayed statement by
statement, so each failure case is compared with the report of the same
migration run unbatched (``Unbatched``: the same adapter with the flag off).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from migration_helpers import Catalog, migrator, write_change, write_config, write_up_down

import whimbrel.migrator.core
from whimbrel.adapters.base import Settings
from whimbrel.adapters.postgres import PostgresAdapter
from whimbrel.errors import MigrationFailedError


class Counting(PostgresAdapter):
    """The PostgreSQL adapter, keeping every query it sends (one round trip each)."""

    sent: list[str]

    def _run(self, sql: str, params: Any, *args: Any) -> Any:
        self.sent.append(sql)
        return super()._run(sql, params, *args)


class Unbatched(Counting):
    capabilities = dataclasses.replace(PostgresAdapter.capabilities, batches=False)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every query the migrator's adapter sends (the adapter batches, as in production)."""
    yield _use(monkeypatch, Counting)


def _use(monkeypatch: pytest.MonkeyPatch, cls: type[Counting]) -> list[str]:
    queries: list[str] = []

    def adapter_for(url: str, settings: Settings | None = None) -> Counting:
        adapter = cls(url, settings)
        adapter.sent = queries
        return adapter

    monkeypatch.setattr(whimbrel.migrator.core, "adapter_for", adapter_for)
    return queries


def _failure(project: Path, url: str) -> MigrationFailedError:
    with migrator(project, url) as m, pytest.raises(MigrationFailedError) as caught:
        m.up()
    return caught.value


def _batches(sent: list[str]) -> list[str]:
    return [sql for sql in sent if sql.startswith("BEGIN\n;")]


def test_each_simple_migration_is_one_round_trip(
    tmp_path: Path, pg_url: str, sent: list[str]
) -> None:
    for version in (10, 20, 30):
        write_change(
            tmp_path,
            version,
            f"t{version}",
            f"""
            with create(table("t{version}")):
                add("name", "string")
            create(index("t{version}", ["name"]))
            """,
        )
    with migrator(tmp_path, pg_url) as m:
        assert m.up() == [10, 20, 30]
    batches = _batches(sent)
    assert len(batches) == 3
    first = sent.index(batches[0])
    assert sent[first : first + 3] == batches  # nothing else goes to the server in between
    for version, batch in zip((10, 20, 30), batches, strict=True):
        statements = batch.split("\n;\n")
        assert statements[0] == "BEGIN" and statements[-1] == "COMMIT"
        assert statements[1].startswith(f'CREATE TABLE "t{version}"')
        assert statements[2].startswith(f'CREATE INDEX "t{version}_name_index"')
        assert f"VALUES ({version}, " in statements[3]  # the version row
        assert len(statements) == 6  # + the checksum row (one upsert)
    catalog = Catalog(pg_url)
    assert catalog.versions() == [10, 20, 30]
    assert catalog.user_tables() == {"t10", "t20", "t30"}


FOUR = [
    "CREATE TABLE one (id int PRIMARY KEY)",
    "INSERT INTO one VALUES (1)",
    "{third}",
    "CREATE TABLE four (id int)",
]
THIRD = {
    "runtime": "INSERT INTO one VALUES (1)",  # duplicate key: fails as it runs
    "syntax": "INSERT INTO one VALUSE (2)",  # fails to parse, so no statement of the batch ran
}


@pytest.mark.parametrize("kind", list(THIRD))
def test_a_failing_third_statement_of_four_is_named_as_without_batches(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    statements = [sql.format(third=THIRD[kind]) for sql in FOUR]
    write_change(tmp_path, 10, "first", 'create(table("first"))')
    body = "\n".join(f'execute("{sql}")' for sql in statements)
    write_up_down(tmp_path, 20, "four", body, 'execute("SELECT 1")')
    sent = _use(monkeypatch, Counting)
    batched = _failure(tmp_path, pg_url)
    assert len(_batches(sent)) == 2  # migration 10, then 20's batch, which failed
    assert batched.version == 20 and batched.rolled_back
    assert batched.statement == statements[2]
    assert batched.statements_run == statements[:2]
    assert f"failing statement: {statements[2]}" in str(batched)
    catalog = Catalog(pg_url)
    assert catalog.versions() == [10]
    assert catalog.user_tables() == {"first"}  # nothing of migration 20 stays

    _use(monkeypatch, Unbatched)
    plain = _failure(tmp_path, pg_url)
    assert str(batched) == str(plain)
    assert (batched.sqlstate, batched.statements_run) == (plain.sqlstate, plain.statements_run)


def test_a_deferred_constraint_failing_at_commit_is_named_as_without_batches(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = """
    execute("CREATE TABLE parent (id int PRIMARY KEY)")
    execute("CREATE TABLE child (parent_id int REFERENCES parent "
            "DEFERRABLE INITIALLY DEFERRED)")
    execute("INSERT INTO child VALUES (7)")
    """
    write_up_down(tmp_path, 10, "deferred", body, 'execute("SELECT 1")')
    _use(monkeypatch, Counting)
    batched = _failure(tmp_path, pg_url)
    assert batched.statement == "COMMIT" and batched.sqlstate == "23503"
    assert Catalog(pg_url).user_tables() == set()
    _use(monkeypatch, Unbatched)
    assert str(_failure(tmp_path, pg_url)) == str(batched)


def test_a_query_part_way_sees_the_statements_before_it(
    tmp_path: Path, pg_url: str, sent: list[str]
) -> None:
    write_up_down(
        tmp_path,
        10,
        "read_back",
        """
        execute("CREATE TABLE counted (id int)")
        execute("INSERT INTO counted VALUES (1), (2)")
        n = repo().query("SELECT count(*) FROM counted")[0][0]
        execute(f"CREATE TABLE seen_{n} (id int)")
        """,
        'execute("SELECT 1")',
    )
    with migrator(tmp_path, pg_url) as m:
        assert m.up() == [10]
    assert Catalog(pg_url).user_tables() == {"counted", "seen_2"}
    assert Catalog(pg_url).versions() == [10]
    # held until the query, sent with BEGIN; then one by one as without batches
    assert _batches(sent) == [
        "BEGIN\n;\nCREATE TABLE counted (id int)\n;\nINSERT INTO counted VALUES (1), (2)"
    ]


def test_a_failure_after_a_query_lists_what_ran_on_both_sides_of_it(
    tmp_path: Path, pg_url: str, sent: list[str]
) -> None:
    write_up_down(
        tmp_path,
        10,
        "read_then_fail",
        """
        execute("CREATE TABLE a (id int)")
        repo().query("SELECT 1")
        execute("CREATE TABLE b (id int)")
        execute("CREATE TABLE a (id int)")
        """,
        'execute("SELECT 1")',
    )
    error = _failure(tmp_path, pg_url)
    assert error.statement == "CREATE TABLE a (id int)" and error.sqlstate == "42P07"
    assert error.statements_run == ["CREATE TABLE a (id int)", "CREATE TABLE b (id int)"]
    assert Catalog(pg_url).user_tables() == set()


def test_a_callable_runs_after_the_statements_before_it(
    tmp_path: Path, pg_url: str, sent: list[str]
) -> None:
    write_up_down(
        tmp_path,
        10,
        "callable",
        """
        execute("CREATE TABLE notes (body text)")
        execute(copy_notes)
        execute("CREATE TABLE after_callable (id int)")
        """,
        'execute("SELECT 1")',
    )
    path = tmp_path / "migrations" / "10_callable.py"
    path.write_text(
        path.read_text()
        + "\n\ndef copy_notes():\n"
        + "    repo().execute(\"INSERT INTO notes VALUES ('from python')\")\n"
        + '    assert repo().query("SELECT count(*) FROM notes") == [(1,)]\n'
    )
    with migrator(tmp_path, pg_url) as m:
        assert m.up() == [10]
    catalog = Catalog(pg_url)
    assert catalog.user_tables() == {"notes", "after_callable"}
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT body FROM notes").fetchall() == [("from python",)]


def test_a_statement_ending_in_a_line_comment_does_not_hide_the_next(
    tmp_path: Path, pg_url: str, sent: list[str]
) -> None:
    write_up_down(
        tmp_path,
        10,
        "comments",
        """
        execute("CREATE TABLE commented (id int) -- a trailing comment")
        execute("CREATE TABLE next_one (id int);")
        """,
        'execute("SELECT 1")',
    )
    with migrator(tmp_path, pg_url) as m:
        assert m.up() == [10]
    assert Catalog(pg_url).user_tables() == {"commented", "next_one"}
    assert len(_batches(sent)) == 1


def test_a_batch_waits_statement_timeout_for_each_of_its_statements() -> None:
    settings = Settings(statement_timeout="1s")
    assert settings.client_timeout() == 6.0  # one statement: as before
    assert settings.client_timeout(statements=6) == 11.0  # 6 x 1 s + the 5 s margin
    assert Settings(statement_timeout="1min").client_timeout(statements=3) == 198.0


def test_a_batch_that_met_the_lock_timeout_is_not_run_again(
    tmp_path: Path, pg_url: str, sent: list[str]
) -> None:
    """Running it again would wait lock_timeout once more, holding the locks it took."""
    write_config(tmp_path, lock_timeout="300ms")
    write_change(tmp_path, 10, "busy", 'create(table("busy"))')
    with migrator(tmp_path, pg_url) as m:
        m.up()
    write_up_down(
        tmp_path,
        20,
        "wait",
        """
        execute("CREATE TABLE fresh (id int)")
        execute("ALTER TABLE busy ADD COLUMN note text")
        """,
        'execute("SELECT 1")',
    )
    with psycopg.connect(pg_url, autocommit=True) as holder:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
        sent.clear()
        error = _failure(tmp_path, pg_url)
        holder.execute("ROLLBACK")
    assert error.sqlstate == "55P03" and error.rolled_back and error.statement is None
    assert "in one of the 4 statements sent together" in str(error)
    assert not any(sql.startswith("ALTER TABLE busy") for sql in sent)  # no replay
    catalog = Catalog(pg_url)
    assert catalog.versions() == [10] and catalog.user_tables() == {"busy"}
