"""Tests of the application's data, each on the migrated test database.

``whimbrel_connection`` is a plain DB-API connection whose work is rolled back
after each test, so every test starts from the empty, migrated schema.
"""

NOW = "'2026-01-01 00:00:00'"


def add_author(cursor, name):
    cursor.execute(
        f"INSERT INTO authors (name, inserted_at, updated_at) VALUES ('{name}', {NOW}, {NOW})"
    )
    cursor.execute(f"SELECT id FROM authors WHERE name = '{name}'")
    return cursor.fetchone()[0]


def count(cursor, table):
    cursor.execute(f"SELECT count(*) FROM {table}")
    return cursor.fetchone()[0]


def test_a_book_gets_default_pages(whimbrel_connection):
    cursor = whimbrel_connection.cursor()
    assert count(cursor, "books") == 0  # nothing left over from other tests
    author = add_author(cursor, "Ursula")
    cursor.execute(
        "INSERT INTO books (title, author_id, inserted_at, updated_at) "
        f"VALUES ('Earthsea', {author}, {NOW}, {NOW})"
    )
    cursor.execute("SELECT pages FROM books")
    assert cursor.fetchone()[0] == 0


def test_deleting_an_author_deletes_their_books(whimbrel_connection):
    cursor = whimbrel_connection.cursor()
    assert count(cursor, "authors") == 0
    author = add_author(cursor, "Octavia")
    cursor.execute(
        "INSERT INTO books (title, author_id, inserted_at, updated_at) "
        f"VALUES ('Kindred', {author}, {NOW}, {NOW})"
    )
    cursor.execute(f"DELETE FROM authors WHERE id = {author}")
    assert count(cursor, "books") == 0


def test_rolling_back_the_last_migration(whimbrel_fresh_database):
    """DDL gets its own database: the session one stays as the migrations left it."""
    with whimbrel_fresh_database.migrator() as migrator:
        assert [row.status for row in migrator.status()] == ["up", "up", "up"]
        assert migrator.down(step=1) == [20260101100200]
        assert [row.status for row in migrator.status()][-1] == "down"
