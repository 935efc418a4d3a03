"""The round-trip harness: apply one migration, read the catalog, roll back, read it again.

Every case of the suite is written once and runs on SQLite, PostgreSQL and
MySQL/MariaDB (the ``db_url`` fixture). ``RoundTrip.run`` drives one
``change()`` (or ``up()``/``down()``) migration through the public
``whimbrel.Migrator``:

1. the catalog is read with ``whimbrel.inspect`` (straight from the
   database's own catalog, never from whimbrel's records);
2. the migration goes up; the catalog must differ, and ``check`` (given the
   new ``Catalog``) asserts that it holds exactly what the migration asked for;
3. the migration goes down; ``diff`` against the first snapshot must be empty.

``RoundTrip.refused`` is the other half: a command the database cannot
express must stop the run before anything runs (``UnsupportedFeatureError``,
exit code 2 from the CLI), with the catalog and the versions untouched.

``pick`` chooses the expected value for the backend at hand, so the cases
state what each database reports without forking.

Example::

    def test_text_column(rt):
        rt.run('with create(table("t")):\\n    add("body", "text")',
               check=lambda db: db.table("t").column("body").type == rt.pick(
                   postgres="text", sqlite="TEXT", mysql="text"))
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from backends import backend
from migration_helpers import error_text, migrator, run_cli, write_change, write_up_down

from dbs import MYSQL
from whimbrel.errors import UnsupportedFeatureError
from whimbrel.inspect import Catalog, diff, inspect

_UNSET: Any = object()


@dataclass
class RoundTrip:
    """One case's project (``project``) on one database (``url``)."""

    project: Path
    url: str
    config: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.backend = backend(self.url)
        self._flavor: str | None = None
        self._next_version = 1
        self._conn: Any = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- what this database is -------------------------------------------------------

    @property
    def flavor(self) -> str:
        """``postgresql``, ``sqlite``, ``mysql`` or ``mariadb``: what the server says it is."""
        if self._flavor is None:
            self._flavor = self.catalog().database
        return self._flavor

    def pick(
        self,
        *,
        postgres: Any = _UNSET,
        sqlite: Any = _UNSET,
        mysql: Any = _UNSET,
        mariadb: Any = _UNSET,
        default: Any = _UNSET,
    ) -> Any:
        """The value given for this backend (``mariadb`` falls back to ``mysql``)."""
        choices = {"postgres": postgres, "sqlite": sqlite, "mysql": mysql}
        if self.flavor == "mariadb" and mariadb is not _UNSET:
            return mariadb
        value = choices[self.backend]
        if value is _UNSET:
            assert default is not _UNSET, f"the case gives no value for {self.backend}"
            return default
        return value

    # -- driving migrations ------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The catalog now, read over one connection kept for the case.

        A connection per read would cost more than the read on MySQL (PyMySQL
        builds an SSL context for every connection).
        """
        if self.backend == "sqlite":
            return inspect(self.url)
        if self._conn is None:
            self._conn = _connect(self.backend, self.url)
        return inspect(self._conn)

    def migrator(self) -> Any:
        return migrator(self.project, self.url, **(self.config or {}))

    def _write(self, body: str | None, up: str, down: str | None, flags: str) -> int:
        version, self._next_version = self._next_version, self._next_version + 1
        if body is not None:
            write_change(self.project, version, f"m{version}", body, flags=flags)
        else:
            write_up_down(self.project, version, f"m{version}", up, down, flags=flags)
        return version

    def setup(self, body: str) -> Catalog:
        """Apply a migration the case builds on (not rolled back); returns the catalog."""
        version = self._write(textwrap.dedent(body), "", None, "")
        with self.migrator() as m:
            assert m.up() == [version]
        return self.catalog()

    def run(
        self,
        body: str | None = None,
        *,
        up: str = "",
        down: str | None = None,
        flags: str = "",
        check: Callable[[Catalog], object] | None = None,
        changes: list[str] | None = None,
    ) -> Catalog:
        """Up, check, down, and the catalog is back as it was. Returns the catalog after up.

        ``changes`` is the exact ``diff`` the migration must make (sorted lines);
        ``check`` asserts on the new catalog, or returns False for "wrong".
        """
        version = self._write(
            textwrap.dedent(body) if body is not None else None,
            textwrap.dedent(up),
            textwrap.dedent(down) if down is not None else None,
            flags,
        )
        before = self.catalog()
        with self.migrator() as m:
            assert m.run("up", step=1) == [version]
            after = self.catalog()
            made = diff(before, after)
            assert made, "the migration changed nothing in the catalog"
            if changes is not None:
                assert made == sorted(changes)
            if check is not None:
                assert check(after) is not False, (
                    f"the catalog after up is not as expected: {after}"
                )
            assert m.run("down", step=1) == [version]
        drift = diff(before, self.catalog())
        assert drift == [], f"rolling back did not restore the catalog: {drift}"
        return after

    def refused(self, body: str, *, says: str = "", cli: bool = False) -> str:
        """The migration is refused before anything runs; returns the error message.

        A table is created first, so a command that ran before the refusal would
        show in the catalog.
        """
        first = 'create(table("made_before_the_refusal"))\n'
        version = self._write(first + textwrap.dedent(body), "", None, "")
        before = self.catalog()
        if cli:
            done = run_cli(self.project, self.url, "migrate")
            assert done.returncode == 2, done.stderr
            message = error_text(done)
        else:
            with self.migrator() as m:
                with pytest.raises(UnsupportedFeatureError) as err:
                    m.up()
                assert [s.status for s in m.status() if s.version == version] == ["down"]
            message = str(err.value)
        assert says in message
        drift = diff(before, self.catalog())
        assert drift == [], f"a refused migration changed the catalog: {drift}"
        return message

    def refused_when_run(self, body: str, *, says: str) -> str:
        """A migration refused by a check of the live catalog, as it runs; returns the message.

        The refusal comes before the migration's first statement (``body`` has no
        statement ahead of the refused one), so the catalog and the versions are
        untouched; the file is then removed, so the case can go on.
        """
        version = self._write(textwrap.dedent(body), "", None, "")
        before = self.catalog()
        with self.migrator() as m:
            with pytest.raises(UnsupportedFeatureError) as err:
                m.up()
            assert [s.status for s in m.status() if s.version == version] == ["down"]
        message = str(err.value)
        assert says in message, message
        drift = diff(before, self.catalog())
        assert drift == [], f"a refused migration changed the catalog: {drift}"
        next(self.project.joinpath("migrations").glob(f"{version}_*.py")).unlink()
        return message


def _connect(name: str, url: str) -> Any:
    if name == "mysql":
        return MYSQL.connect(url)
    import psycopg

    return psycopg.connect(url, autocommit=True)


# MySQL 8.0.19+ dropped integer display widths (int(11) -> int); MariaDB keeps them.
_DISPLAY_WIDTH = re.compile(r"\b(smallint|mediumint|int|bigint)\(\d+\)")


def column_type(cat: Catalog, table: str, column: str) -> str:
    """The column's type, without MariaDB's integer display widths (so both flavours agree)."""
    return _DISPLAY_WIDTH.sub(r"\1", cat.table(table).column(column).type)


def columns(cat: Catalog, table: str, *fields: str) -> dict[str, Any]:
    """``{column: value}`` (one field) or ``{column: (values...)}``; ``type`` is normalized."""
    found: dict[str, Any] = {}
    for c in cat.table(table).columns:
        values = tuple(
            column_type(cat, table, c.name) if f == "type" else getattr(c, f) for f in fields
        )
        found[c.name] = values[0] if len(values) == 1 else values
    return found
