"""Generated migrations that the project's database cannot run are flagged when written."""

from __future__ import annotations

import pytest

from golden.cases import GOLDEN
from whimbrel.adapters import REGISTRY
from whimbrel.generators import load_domain, render_domain, render_migration, render_outbox
from whimbrel.generators.outbox import Outbox
from whimbrel.generators.portability import portability_warnings
from whimbrel.url import SCHEMES

OUTBOX = render_outbox(Outbox("outbox_messages", True, None))
ENUM = render_migration("create_post_status", "create_enum")
TRIGGER = render_migration("add_updated_at_trigger_to_posts", "add_trigger")
DOMAIN = render_domain(load_domain(GOLDEN / "domain" / "crm.toml"), "20260101000000")[1]


@pytest.mark.parametrize("url", ["postgresql://db/app", "postgres://db/app"])
@pytest.mark.parametrize("source", [OUTBOX, ENUM, DOMAIN, TRIGGER])
def test_postgres_gets_no_warning(url: str, source: str) -> None:
    assert portability_warnings(source, url) == ()


@pytest.mark.parametrize(
    ("source", "url", "words"),
    [
        (OUTBOX, "sqlite:///app.db", ["gen_random_uuid()"]),
        (OUTBOX, "mysql://root@db/app", ["gen_random_uuid()", "partial indexes"]),
        (DOMAIN, "sqlite:///app.db", ["gen_random_uuid()"]),
        (DOMAIN, "mariadb://root@db/app", ["gen_random_uuid()"]),
        (ENUM, "sqlite:///app.db", ["enum type", '"text" column']),
        (ENUM, "mysql://root@db/app", ["enum type", "enum('a','b')"]),
        (TRIGGER, "sqlite:///app.db", ["plpgsql", "execute(up, down)"]),
    ],
)
def test_other_databases_are_told_what_fails_and_the_fix(
    source: str, url: str, words: list[str]
) -> None:
    text = " ".join(portability_warnings(source, url))
    for word in words:
        assert word in text


def test_plain_templates_warn_nowhere() -> None:
    source = render_migration("create_posts", "create_table")
    assert portability_warnings(source, "sqlite:///app.db") == ()
    assert portability_warnings(source, "mysql://root@db/app") == ()


def test_the_scheme_hint_matches_the_adapter_registry() -> None:
    assert set(SCHEMES) == set(REGISTRY)
