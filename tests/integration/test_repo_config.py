"""``repo().config()``: the database's settings inside a migration (Ecto's ``Repo.config()``)."""

from __future__ import annotations

import json
from pathlib import Path

from backends import backend
from migration_helpers import Catalog, migrator, write_up_down

#: ALTER DATABASE by the name repo().config() gives, and how to read its effect back.
ALTER = {
    "postgres": (
        """execute(f'ALTER DATABASE "{db.database}" SET work_mem = \\'5MB\\'')""",
        "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s "
        "JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()",
        "work_mem=5MB",
    ),
    "mysql": (
        "execute(f'ALTER DATABASE `{db.database}` COLLATE utf8mb4_bin')",
        "SELECT default_collation_name FROM information_schema.schemata "
        "WHERE schema_name = DATABASE()",
        "utf8mb4_bin",
    ),
}


def _with_password(url: str) -> str:
    """The URL with a password (PostgreSQL here trusts 127.0.0.1: any one is accepted)."""
    scheme, rest = url.split("://", 1)
    user, at, host = rest.partition("@")
    return f"{scheme}://{user}:Sekr1tPW@{host}" if at else url


def test_a_migration_reads_the_database_settings(tmp_path: Path, db_url: str) -> None:
    seen = tmp_path / "seen.json"
    kind = backend(db_url)
    alter = ALTER[kind][0] if kind in ALTER else "pass"
    write_up_down(
        tmp_path,
        10,
        "alter_database",
        f"""
        import json
        db = repo().config()
        {alter}
        with open({str(seen)!r}, "w") as out:
            json.dump([db.scheme, db.host, db.port, db.database, db.user, db.password,
                       repr(db), str(db)], out)
        """,
        "pass",
    )
    # PostgreSQL here trusts 127.0.0.1 whatever the password; MariaDB's root has none.
    url = _with_password(db_url) if kind == "postgres" else db_url
    with migrator(tmp_path, url) as m:
        assert m.up() == [10]
    scheme, host, port, database, user, password, shown, text = json.loads(seen.read_text())
    name = db_url.rsplit("/", 1)[1]
    if kind == "sqlite":
        assert (scheme, host, port, user, password) == ("sqlite", None, None, None, None)
        assert database == db_url.split("://", 1)[1][1:]
        return
    assert (scheme, host, port, database, user) == (
        {"postgres": "postgresql"}.get(kind, kind),
        "127.0.0.1",
        {"postgres": 5432, "mysql": 3306}[kind],
        name,
        {"postgres": "postgres", "mysql": "root"}[kind],
    )
    if kind == "postgres":
        assert password == "Sekr1tPW"  # asked for explicitly
        assert "Sekr1t" not in shown and "password='***'" in shown
        assert "Sekr1t" not in text and f"postgres:***@127.0.0.1:{port}/{name}" in text
    else:
        assert password is None and "password" not in shown
        assert text == f"mysql://root@127.0.0.1:3306/{name}"
    _, read_back, expected = ALTER[kind]
    assert Catalog(db_url).scalar(read_back) == expected
