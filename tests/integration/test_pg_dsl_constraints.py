"""Check and exclusion constraints on a real PostgreSQL, and validating NOT VALID ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_helpers import write_change, write_up_down
from test_pg_dsl_catalog import ConstraintInfo, RoundTrip, make_migrator, planned_sql

from whimbrel.errors import MigrationFailedError

PRODUCTS = """
with create(table("products")):
    add("price", "integer")
    add("during", "tsrange")
execute("INSERT INTO products (price) VALUES (-1)", "DELETE FROM products")
"""


@pytest.fixture
def rt(tmp_path: Path, pg_url: str) -> RoundTrip:
    rt = RoundTrip(tmp_path, pg_url, {})
    rt.setup(PRODUCTS)
    return rt


def test_check_constraint_with_a_comment(rt: RoundTrip) -> None:
    rt.run(
        """
        execute("DELETE FROM products", "INSERT INTO products (price) VALUES (-1)")
        create(constraint("products", "price_positive", check="price > 0", comment="No freebies"))
        """,
        up_sql=[
            "DELETE FROM products",
            'ALTER TABLE "products" ADD CONSTRAINT "price_positive" CHECK (price > 0)',
            'COMMENT ON CONSTRAINT "price_positive" ON "products" IS \'No freebies\'',
        ],
        down_sql=[
            'ALTER TABLE "products" DROP CONSTRAINT "price_positive"',
            "INSERT INTO products (price) VALUES (-1)",
        ],
        check=lambda db: (
            db.constraint("products", "price_positive")
            == ConstraintInfo("c", "CHECK ((price > 0))", True, "No freebies")
        ),
    )


def test_exclusion_constraint(rt: RoundTrip) -> None:
    rt.run(
        'create(constraint("products", "no_overlap", exclude="gist (during WITH &&)"))',
        up_sql=[
            'ALTER TABLE "products" ADD CONSTRAINT "no_overlap" EXCLUDE USING gist (during WITH &&)'
        ],
        down_sql=['ALTER TABLE "products" DROP CONSTRAINT "no_overlap"'],
        check=lambda db: (
            db.constraint("products", "no_overlap").definition
            == "EXCLUDE USING gist (during WITH &&)"
        ),
    )


def test_not_valid_check_skips_existing_rows(rt: RoundTrip) -> None:
    # The row with price -1 would fail a validated check; NOT VALID only checks new rows.
    rt.run(
        'create(constraint("products", "price_positive", check="price > 0", validate=False))',
        up_sql=[
            'ALTER TABLE "products" ADD CONSTRAINT "price_positive" CHECK (price > 0) NOT VALID'
        ],
        check=lambda db: (
            db.constraint("products", "price_positive")
            == ConstraintInfo("c", "CHECK ((price > 0)) NOT VALID", False)
        ),
    )


def test_validate_constraint_checks_the_rows_and_rollback_runs_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    write_change(tmp_path, 1, "products", PRODUCTS.replace("-1", "5"))
    write_change(
        tmp_path,
        2,
        "check_price",
        'create(constraint("products", "price_positive", check="price > 0", validate=False))',
    )
    write_change(tmp_path, 3, "validate", 'validate_constraint("products", "price_positive")')
    with make_migrator(tmp_path, pg_url) as m:
        m.run("up", step=2)
        assert planned_sql(m, "up") == [
            'ALTER TABLE "products" VALIDATE CONSTRAINT "price_positive"'
        ]
        assert m.run("up", step=1) == [3]
        schema = RoundTrip(tmp_path, pg_url, {}).schema
        assert schema.constraint("products", "price_positive").validated
        assert planned_sql(m, "down") == []
        assert m.down() == [3]
        assert schema.constraint("products", "price_positive").validated
        assert m.down() == [2]
        assert ("public", "products", "price_positive") not in schema.constraints()


def test_validating_fails_on_a_row_that_breaks_the_constraint(tmp_path: Path, pg_url: str) -> None:
    write_change(tmp_path, 1, "products", PRODUCTS)
    write_change(
        tmp_path,
        2,
        "check_price",
        'create(constraint("products", "price_positive", check="price > 0", validate=False))',
    )
    write_change(tmp_path, 3, "validate", 'validate_constraint("products", "price_positive")')
    with make_migrator(tmp_path, pg_url) as m:
        with pytest.raises(MigrationFailedError) as err:
            m.up()
    assert "is violated by some row" in str(err.value)
    assert 'VALIDATE CONSTRAINT "price_positive"' in str(err.value)


def test_drop_constraint_cascade_and_if_exists(tmp_path: Path, pg_url: str) -> None:
    rt = RoundTrip(tmp_path, pg_url, {})
    rt.setup(
        """
        with create(table("users")):
            add("email", "text")
        execute("ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)",
                "ALTER TABLE users DROP CONSTRAINT users_email_key")
        with create(table("invites")):
            add("email", "text")
        execute(
            "ALTER TABLE invites ADD CONSTRAINT invites_email_fkey FOREIGN KEY (email) "
            "REFERENCES users (email)",
            "ALTER TABLE invites DROP CONSTRAINT invites_email_fkey",
        )
        """
    )
    write_up_down(
        tmp_path,
        2,
        "drop_unique",
        up="""
        drop(constraint("users", "users_email_key"), mode="cascade")
        drop_if_exists(constraint("users", "users_email_key"))
        """,
        down="""
        execute("ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)")
        execute(
            "ALTER TABLE invites ADD CONSTRAINT invites_email_fkey FOREIGN KEY (email) "
            "REFERENCES users (email)"
        )
        """,
    )
    schema = rt.schema
    before = schema.snapshot()
    with rt.migrator() as m:
        assert planned_sql(m, "up") == [
            'ALTER TABLE "users" DROP CONSTRAINT "users_email_key" CASCADE',
            'ALTER TABLE "users" DROP CONSTRAINT IF EXISTS "users_email_key"',
        ]
        m.up()
        constraints = schema.constraints()
        # CASCADE took the foreign key that depended on the unique constraint with it.
        assert ("public", "users", "users_email_key") not in constraints
        assert ("public", "invites", "invites_email_fkey") not in constraints
        m.down()
    assert schema.snapshot() == before
