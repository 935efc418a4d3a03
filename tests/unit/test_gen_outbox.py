"""`gen outbox`: the table, its partial indexes, the schema option, names checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from whimbrel.dsl.commands import CreateIndex, CreateTable
from whimbrel.dsl.recorder import Recorder, recording
from whimbrel.errors import UsageError
from whimbrel.generators import Outbox, generate_outbox, relay_query, render_outbox


def _record(source: str) -> list[object]:
    """Run the generated change() through the DSL recorder (no database)."""
    namespace: dict[str, object] = {}
    exec(compile(source, "generated.py", "exec"), namespace)  # noqa: S102 - our own output
    recorder = Recorder()
    with recording(recorder):
        namespace["change"]()  # type: ignore[operator]
        return recorder.take()


def test_the_table_has_the_outbox_columns() -> None:
    create, pending, failed = _record(render_outbox(Outbox()))
    assert isinstance(create, CreateTable)
    assert create.table.name == "outbox_messages" and create.table.primary_key is False
    columns = {c.name: c for c in create.columns}
    assert list(columns) == [
        "id", "topic", "payload", "headers", "attempt", "relayed_at", "failed_at",
        "last_error", "inserted_at", "updated_at",
    ]  # fmt: skip
    assert columns["id"].type == "binary_id" and columns["id"].opts.primary_key
    assert columns["id"].opts.default.sql == "gen_random_uuid()"
    assert (columns["topic"].type, columns["topic"].opts.null) == ("string", False)
    assert (columns["payload"].type, columns["payload"].opts.null) == ("map", False)
    assert (columns["headers"].opts.null, columns["headers"].opts.default) == (False, {})
    assert (columns["attempt"].opts.null, columns["attempt"].opts.default) == (False, 1)
    for name in ("relayed_at", "failed_at", "inserted_at", "updated_at"):
        assert columns[name].type == "utc_datetime_usec"
    assert columns["last_error"].type == "text"
    assert isinstance(pending, CreateIndex) and isinstance(failed, CreateIndex)
    assert pending.index.name == "outbox_messages_pending_idx"
    assert pending.index.columns == ("relayed_at", "inserted_at")
    assert pending.index.where == "relayed_at IS NULL AND failed_at IS NULL"
    assert failed.index.name == "outbox_messages_failed_idx"
    assert (failed.index.columns, failed.index.where) == (("failed_at",), "failed_at IS NOT NULL")


def test_no_index_leaves_the_indexes_out() -> None:
    commands = _record(render_outbox(Outbox(indexes=False)))
    assert [type(c) for c in commands] == [CreateTable]


def test_prefix_puts_table_and_indexes_in_the_schema() -> None:
    create, pending, failed = _record(render_outbox(Outbox("events", prefix="queue")))
    assert (create.table.name, create.table.prefix) == ("events", "queue")
    assert pending.index.prefix == failed.index.prefix == "queue"
    assert pending.index.name == "events_pending_idx"


def test_relay_query_reads_pending_rows_oldest_first_skipping_locked() -> None:
    query = relay_query("events", "queue")
    assert 'FROM "queue"."events"' in query
    assert "WHERE relayed_at IS NULL AND failed_at IS NULL" in query
    assert query.endswith("ORDER BY inserted_at\nLIMIT 100\nFOR UPDATE SKIP LOCKED")


@pytest.mark.parametrize("table", ["Outbox", "out box", "outbox;drop", "1outbox", ""])
def test_table_names_are_checked(tmp_path: Path, table: str) -> None:
    with pytest.raises(UsageError, match="not a plain identifier") as info:
        generate_outbox(tmp_path, table)
    assert info.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_schema_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"schema \(--prefix\) 'my schema'"):
        generate_outbox(tmp_path, prefix="my schema")


def test_a_table_too_long_for_its_index_names_is_refused() -> None:
    with pytest.raises(UsageError, match="too long for its index name"):
        Outbox("t" * 52)
    assert Outbox("t" * 52, indexes=False).table == "t" * 52


def test_generate_writes_create_table_and_says_what_next(tmp_path: Path) -> None:
    result = generate_outbox(tmp_path / "migrations", "events", version="20260101000000")
    assert result.path == tmp_path / "migrations" / "20260101000000_create_events.py"
    assert result.path.read_text() == render_outbox(Outbox("events"))
    steps = "\n".join(result.notes)
    assert "whimbrel migrate" in steps
    assert "events_pending_idx" in steps
    assert "    " + relay_query("events").replace("\n", "\n    ") + ";" in steps


def test_a_second_outbox_with_the_same_table_is_refused(tmp_path: Path) -> None:
    generate_outbox(tmp_path)
    with pytest.raises(UsageError, match="'create_outbox_messages' already exists"):
        generate_outbox(tmp_path)
