"""Check and exclusion constraints, NOT VALID, and drop(constraint) with its rollback."""

from __future__ import annotations

from catalog_harness import RoundTrip

from whimbrel.inspect import Catalog, Check

PRODUCTS = """
with create(table("products")):
    add("price", "integer")
    add("starts", "integer")
    add("ends", "integer")
"""


def expression(rt: RoundTrip, sql: str) -> str:
    """How each database prints back ``price > 0``-style expressions."""
    return rt.pick(postgres=sql, sqlite=sql, mysql=sql.replace("price", "`price`"))


def test_check_constraint_with_a_comment(rt: RoundTrip) -> None:
    rt.setup(PRODUCTS)
    # MySQL/MariaDB and SQLite keep no constraint comments.
    comment = rt.pick(postgres="No freebies", default=None)
    rt.run(
        'create(constraint("products", "price_positive", check="price > 0", '
        'comment="No freebies"))',
        check=lambda db: (
            db.table("products").checks
            == (Check("price_positive", expression(rt, "price > 0"), comment=comment),)
        ),
    )


def test_not_valid_check(rt: RoundTrip) -> None:
    rt.setup(
        PRODUCTS + 'execute("INSERT INTO products (price) VALUES (-1)", "DELETE FROM products")'
    )
    body = 'create(constraint("products", "price_positive", check="price > 0", validate=False))'
    if rt.backend != "postgres":
        rt.refused(body, says="validate=False")
        return
    rt.run(
        body,
        check=lambda db: (
            db.table("products").check("price_positive")
            == Check("price_positive", "price > 0", validated=False)
        ),
    )


def test_exclusion_constraint(rt: RoundTrip) -> None:
    rt.setup(PRODUCTS)
    body = """
        create(constraint("products", "no_overlap",
                          exclude="gist (int4range(starts, ends) WITH &&)"))
        """
    if rt.backend != "postgres":
        rt.refused(body, says="exclusion constraint")
        return

    def check(db: Catalog) -> None:
        found = db.table("products").check("no_overlap")
        assert (found.kind, found.expression) == (
            "exclude",
            "USING gist (int4range(starts, ends) WITH &&)",
        )
        assert db.table("products").indexes == ()  # the constraint's index is part of it

    rt.run(body, check=check)


def test_drop_check_constraint_comes_back_on_rollback(rt: RoundTrip) -> None:
    rt.setup(PRODUCTS + 'create(constraint("products", "price_positive", check="price > 0"))')
    rt.run(
        up='drop(constraint("products", "price_positive"))',
        down='create(constraint("products", "price_positive", check="price > 0"))',
        changes=['table "products": - constraint "price_positive"'],
    )
