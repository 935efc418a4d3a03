"""Tables, columns, types, keys, comments and timestamps: up, catalog, down, catalog.

Runs on SQLite, PostgreSQL and MySQL/MariaDB. Expected values are what each
database reports for what the migration asked (see ``catalog_harness.pick``).
"""

from __future__ import annotations

from catalog_harness import RoundTrip, column_type, columns
from migration_helpers import write

from whimbrel.inspect import Catalog, PrimaryKey

# --- the type map (DESIGN §2) ----------------------------------------------------------------

#: Ecto type -> (PostgreSQL, SQLite, MySQL/MariaDB), as each catalog reports the column.
TYPE_MAP = {
    "id": ("integer", "INTEGER", "int"),
    "integer": ("integer", "INTEGER", "int"),
    "bigint": ("bigint", "INTEGER", "bigint"),
    "binary_id": ("uuid", "TEXT", "binary(16)"),
    "uuid": ("uuid", "TEXT", "binary(16)"),
    "string": ("character varying(255)", "TEXT", "varchar(255)"),
    "text": ("text", "TEXT", "text"),
    "boolean": ("boolean", "INTEGER", "tinyint(1)"),
    "float": ("double precision", "NUMERIC", "double"),
    "decimal": ("numeric", "DECIMAL", "decimal(10,0)"),
    "binary": ("bytea", "BLOB", "blob"),
    "map": ("jsonb", "TEXT", "json"),
    "date": ("date", "TEXT", "date"),
    "time": ("time(0) without time zone", "TEXT", "time"),
    "time_usec": ("time without time zone", "TEXT", "time(6)"),
    "utc_datetime": ("timestamp(0) without time zone", "TEXT", "datetime"),
    "utc_datetime_usec": ("timestamp without time zone", "TEXT", "datetime(6)"),
    "naive_datetime": ("timestamp(0) without time zone", "TEXT", "datetime"),
    "naive_datetime_usec": ("timestamp without time zone", "TEXT", "datetime(6)"),
    "smallint": ("smallint", "smallint", "smallint"),  # any other name passes through
}


def test_every_type_of_the_type_map(rt: RoundTrip) -> None:
    column = {"postgres": 0, "sqlite": 1, "mysql": 2}[rt.backend]
    expected = {f"c_{name}": types[column] for name, types in TYPE_MAP.items()}
    if rt.flavor == "mariadb":
        expected["c_map"] = "longtext"  # MariaDB's JSON is LONGTEXT with a json_valid() check

    def check(db: Catalog) -> None:
        assert columns(db, "t", "type") == expected
        assert all(c.nullable and c.default is None for c in db.table("t").columns)
        assert db.table("t").primary_key is None
        json_check = rt.pick(mariadb=["json_valid(`c_map`)"], default=[])
        assert [c.expression for c in db.table("t").checks] == json_check

    rt.run(
        'with create(table("t", primary_key=False)):\n'
        + "\n".join(f'    add("c_{name}", "{name}")' for name in TYPE_MAP),
        check=check,
        changes=['+ table "t"'],
    )


def test_serial_keys_and_the_default_key(rt: RoundTrip) -> None:
    def check(db: Catalog) -> None:
        found = {
            t: (column_type(db, t, "id"), db.table(t).column("id").identity)
            for t in ("s1", "s2", "s3", "plain")
        }
        assert found == rt.pick(
            postgres={
                "s1": ("integer", None),
                "s2": ("bigint", None),
                "s3": ("bigint", "by default"),
                "plain": ("bigint", None),
            },
            sqlite=dict.fromkeys(("s1", "s2", "s3", "plain"), ("INTEGER", "autoincrement")),
            mysql=dict.fromkeys(("s1", "s2", "s3", "plain"), ("bigint unsigned", "auto_increment")),
        )
        for t in ("s1", "s2", "s3", "plain"):
            assert db.table(t).primary_key == PrimaryKey(
                rt.pick(postgres=f"{t}_pkey", sqlite=None, mysql="PRIMARY"), ("id",)
            )
        if rt.backend == "postgres":  # serial keys are a sequence default
            assert db.table("s2").column("id").default == "nextval('s2_id_seq'::regclass)"

    rt.run(
        """
        with create(table("s1", primary_key=False)):
            add("id", "serial", primary_key=True)
        with create(table("s2", primary_key=False)):
            add("id", "bigserial", primary_key=True)
        with create(table("s3", primary_key=False)):
            add("id", "identity", primary_key=True)
        create(table("plain"))
        """,
        check=check,
    )


# --- column options --------------------------------------------------------------------------


def test_null_and_every_kind_of_default(rt: RoundTrip) -> None:
    expected = {
        "a": (False, None),
        "b": (True, None),
        "c": (True, None),
        "s": (
            True,
            rt.pick(
                postgres="'it''s'::character varying",
                sqlite="'it''s'",
                mariadb="'it''s'",
                mysql="it's",
            ),
        ),
        "n": (True, "42"),
        "neg": (True, rt.pick(postgres="'-1'::integer", default="-1")),
        "f": (True, "1.5"),
        "d": (True, "9.99"),
        "yes": (True, rt.pick(postgres="true", default="1")),
        "no": (True, rt.pick(postgres="false", default="0")),
        # DEFAULT NULL: PostgreSQL and MariaDB store no default, SQLite keeps the text.
        "nothing": (True, rt.pick(sqlite="NULL", default=None)),
        "meta": (
            True,
            rt.pick(
                postgres="""'{"a": 1, "b": [true, null]}'::jsonb""",
                sqlite="""'{"a":1,"b":[true,null]}'""",
                mariadb="""'{"a":1,"b":[true,null]}'""",
                mysql="""_utf8mb4\\'{"a":1,"b":[true,null]}\\'""",
            ),
        ),
        "at": (
            True,
            rt.pick(
                postgres="CURRENT_TIMESTAMP",
                sqlite="CURRENT_TIMESTAMP",
                mariadb="current_timestamp()",
                mysql="CURRENT_TIMESTAMP",
            ),
        ),
    }
    rt.run(
        """
        from decimal import Decimal
        with create(table("t", primary_key=False)):
            add("a", "text", null=False)
            add("b", "text", null=True)
            add("c", "string")
            add("s", "string", default="it's")
            add("n", "integer", default=42)
            add("neg", "integer", default=-1)
            add("f", "float", default=1.5)
            add("d", "decimal", precision=5, scale=2, default=Decimal("9.99"))
            add("yes", "boolean", default=True)
            add("no", "boolean", default=False)
            add("nothing", "text", default=None)
            add("meta", "map", default={"b": [True, None], "a": 1})
            add("at", "utc_datetime", default=fragment("CURRENT_TIMESTAMP"))
        """,
        check=lambda db: columns(db, "t", "nullable", "default") == expected,
    )


def test_array_columns_and_defaults(rt: RoundTrip) -> None:
    if rt.backend == "mysql":
        rt.refused(
            'with create(table("t")):\n    add("tags", array("text"))',
            says="array columns",
        )
        return

    def check(db: Catalog) -> None:
        assert columns(db, "t", "type", "default") == rt.pick(
            postgres={
                "tags": ("text[]", "ARRAY['a'::text, 'b''c'::text]"),
                "empty": ("text[]", "ARRAY[]::text[]"),
                "ints": ("integer[]", "ARRAY[1, 2]"),
                "grid": ("integer[]", None),  # PostgreSQL keeps no array dimensions
            },
            sqlite={  # JSON text, as ecto_sqlite3 stores arrays
                "tags": ("TEXT", """'["a","b''c"]'"""),
                "empty": ("TEXT", "'[]'"),
                "ints": ("TEXT", "'[1,2]'"),
                "grid": ("TEXT", None),
            },
        )

    rt.run(
        """
        with create(table("t", primary_key=False)):
            add("tags", array("text"), default=["a", "b'c"])
            add("empty", array("text"), default=[])
            add("ints", array("integer"), default=[1, 2])
            add("grid", array(array("integer")))
        """,
        check=check,
    )


def test_size_precision_scale_comment_and_collation(rt: RoundTrip) -> None:
    collation = rt.pick(postgres="C", sqlite="NOCASE", mysql="utf8mb4_bin")

    def check(db: Catalog) -> None:
        assert columns(db, "t", "type", "comment", "collation") == rt.pick(
            postgres={
                "code": ("character varying(8)", "Short code", None),
                "name": ("text", None, "C"),
                "price": ("numeric(10,2)", "In cents; it's exact", None),
                "ratio": ("numeric(4,0)", None, None),
                "at": ("timestamp(3) without time zone", None, None),
            },
            sqlite={  # SQLite keeps no comments
                "code": ("TEXT(8)", None, None),
                "name": ("TEXT", None, "NOCASE"),
                "price": ("DECIMAL(10,2)", None, None),
                "ratio": ("DECIMAL(4)", None, None),
                "at": ("TEXT", None, None),
            },
            mysql={
                "code": ("varchar(8)", "Short code", None),
                "name": ("text", None, "utf8mb4_bin"),
                "price": ("decimal(10,2)", "In cents; it's exact", None),
                "ratio": ("decimal(4,0)", None, None),
                "at": ("datetime(3)", None, None),
            },
        )

    rt.run(
        f"""
        with create(table("t", primary_key=False)):
            add("code", "string", size=8, comment="Short code")
            add("name", "text", collation="{collation}")
            add("price", "decimal", precision=10, scale=2, comment="In cents; it's exact")
            add("ratio", "decimal", precision=4)
            add("at", "utc_datetime_usec", precision=3)
        """,
        check=check,
    )


def test_generated_column(rt: RoundTrip) -> None:
    rt.run(
        """
        with create(table("t", primary_key=False)):
            add("qty", "integer")
            add("total", "integer", generated="ALWAYS AS (qty * 2) STORED")
        """,
        check=lambda db: (
            db.table("t").column("total").generated
            == rt.pick(postgres="(qty * 2)", sqlite="qty * 2", mysql="`qty` * 2")
        ),
    )


def test_identity_start_value_and_increment(rt: RoundTrip) -> None:
    if rt.backend == "mysql":
        rt.refused(
            'with create(table("t", primary_key=False)):\n'
            '    add("n", "identity", primary_key=True, start_value=10, increment=10)',
            says="increment=",
        )
        return
    rt.run(
        """
        with create(table("t", primary_key=False)):
            add("n", "identity", primary_key=True, start_value=10, increment=10)
        """,
        check=lambda db: (
            db.table("t").column("n").identity
            == rt.pick(postgres="by default", sqlite="autoincrement")
        ),
    )


# --- tables and keys -------------------------------------------------------------------------


def test_custom_and_composite_primary_keys(rt: RoundTrip) -> None:
    def check(db: Catalog) -> None:
        users, members = db.table("users"), db.table("memberships")
        assert users.primary_key and users.primary_key.columns == ("uuid",)
        assert column_type(db, "users", "uuid") == rt.pick(
            postgres="uuid", sqlite="TEXT", mysql="binary(16)"
        )
        assert not users.column("uuid").nullable or rt.backend == "sqlite"
        assert members.primary_key == PrimaryKey(
            rt.pick(postgres="memberships_pkey", sqlite=None, mysql="PRIMARY"),
            ("user_id", "group_id"),
        )
        assert members.column_names == ["user_id", "group_id", "role"]

    rt.run(
        """
        with create(table("users", primary_key={"name": "uuid", "type": "binary_id"})):
            add("email", "string")
        with create(table("memberships", primary_key=False)):
            add("user_id", "bigint", primary_key=True)
            add("group_id", "bigint", primary_key=True)
            add("role", "text")
        """,
        check=check,
    )


def test_table_and_column_comments(rt: RoundTrip) -> None:
    def check(db: Catalog) -> None:
        posts = db.table("posts")
        wanted = rt.pick(sqlite=(None, None), default=("Blog posts", "Shown in lists; it's short"))
        assert (posts.comment, posts.column("title").comment) == wanted

    rt.run(
        """
        with create(table("posts", comment="Blog posts")):
            add("title", "text", comment="Shown in lists; it's short")
        """,
        check=check,
    )


def test_create_if_not_exists_twice(rt: RoundTrip) -> None:
    rt.run(
        """
        create_if_not_exists(table("posts"))
        create_if_not_exists(table("posts"))
        """,
        changes=['+ table "posts"'],
    )


def test_timestamps_default_and_options(rt: RoundTrip) -> None:
    def check(db: Catalog) -> None:
        assert columns(db, "a", "type", "nullable") == rt.pick(
            postgres={
                "id": ("bigint", False),
                "inserted_at": ("timestamp(0) without time zone", False),
                "updated_at": ("timestamp(0) without time zone", False),
            },
            sqlite={
                "id": ("INTEGER", True),
                "inserted_at": ("TEXT", False),
                "updated_at": ("TEXT", False),
            },
            mysql={
                "id": ("bigint unsigned", False),
                "inserted_at": ("datetime", False),
                "updated_at": ("datetime", False),
            },
        )
        b = db.table("b")
        assert b.column_names == ["id", "created_at"]
        assert (column_type(db, "b", "created_at"), b.column("created_at").nullable) == rt.pick(
            postgres=("timestamp without time zone", True),
            sqlite=("TEXT", True),
            mysql=("datetime(6)", True),
        )
        assert b.column("created_at").default == rt.pick(
            mariadb="current_timestamp(6)",
            mysql="CURRENT_TIMESTAMP(6)",
            default="CURRENT_TIMESTAMP",
        )

    rt.run(
        """
        with create(table("a")):
            timestamps()
        with create(table("b")):
            timestamps(inserted_at="created_at", updated_at=False, type="utc_datetime_usec",
                       null=True, default=fragment("CURRENT_TIMESTAMP"))
        """,
        check=check,
    )


def test_project_key_foreign_key_and_timestamps_from_whimbrel_toml(rt: RoundTrip) -> None:
    write(
        rt.project,
        "whimbrel.toml",
        """
        migration_primary_key = {name = "uuid", type = "binary_id"}
        migration_foreign_key = {column = "uuid", type = "binary_id"}
        migration_timestamps = {type = "utc_datetime_usec", inserted_at = "created_at"}
        """,
    )
    rt.setup('create(table("users"))')

    def check(db: Catalog) -> None:
        posts = db.table("posts")
        assert posts.column_names == ["uuid", "author_id", "created_at", "updated_at"]
        assert posts.primary_key and posts.primary_key.columns == ("uuid",)
        assert column_type(db, "posts", "author_id") == column_type(db, "users", "uuid")
        fk = posts.foreign_keys[0]
        assert (fk.columns, fk.ref_table, fk.ref_columns) == (("author_id",), "users", ("uuid",))

    rt.run(
        """
        with create(table("posts")):
            add("author_id", references("users"))
            timestamps()
        """,
        check=check,
    )
