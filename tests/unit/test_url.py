"""Database URLs: every form of password is masked, bad URLs are clear ConfigErrors."""

from __future__ import annotations

import pytest

from whimbrel.errors import ConfigError
from whimbrel.url import libpq_target, mask, scheme, server_parts

PW = "Secr3tPW"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://app:{PW}@db:5432/app", "postgresql://app:***@db:5432/app"),
        (f"admin:{PW}@db/app", "admin:***@db/app"),  # no scheme
        (f"postgresql:/app:{PW}@db/app", "postgresql:/app:***@db/app"),  # one slash
        (f"mysql://app@db/app?password={PW}&ssl=1", "mysql://app@db/app?password=***&ssl=1"),
        (f"postgresql://app:{PW}/x@db/app", "postgresql://app:***@db/app"),  # unencoded /
        (f"postgresql://app:{PW}@x@db/app", "postgresql://app:***@db/app"),  # unencoded @
        (f"postgresql://app:{PW}%ZZ@db/app", "postgresql://app:***@db/app"),
        ("postgresql://app@db/app", "postgresql://app@db/app"),  # nothing to hide
        ("sqlite:///app.db", "sqlite:///app.db"),
    ],
)
def test_mask_hides_the_password_in_every_url_form(url: str, shown: str) -> None:
    assert mask(url) == shown
    assert PW not in mask(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        # psycopg's own messages, as the driver words them
        (
            f"postgresql+asyncpg://u:{PW}@127.0.0.1/db",
            f'missing "=" after "postgresql+asyncpg://u:{PW}@127.0.0.1/db" in connection info',
        ),
        (f"postgresql://u:{PW}%ZZ@127.0.0.1/db", f'invalid percent-encoded token: "{PW}%ZZ"'),
        (f"postgresql://u:p%40{PW}@h/db", f"password authentication failed: p@{PW}"),
        (f"mysql://u@h/db?password={PW}", f"bad option password={PW} in dsn"),
        (f"postgresql://u:{PW}@h/db", f"elsewhere: mysql://x:{PW}@other/db"),
    ],
)
def test_mask_with_url_hides_the_password_in_a_driver_message(url: str, message: str) -> None:
    masked = mask(message, url)
    assert PW not in masked
    assert "***" in masked


def test_mask_of_a_message_keeps_the_rest_readable() -> None:
    url = f"postgresql://app:{PW}@db/app"
    assert mask(f"cannot connect to {url}: timeout", url) == (
        "cannot connect to postgresql://app:***@db/app: timeout"
    )


def test_url_without_scheme_lists_the_supported_schemes_and_no_other() -> None:
    with pytest.raises(ConfigError) as err:
        scheme(f"admin:{PW}@db/app")
    message = str(err.value)
    from whimbrel.adapters import REGISTRY
    from whimbrel.url import SCHEMES

    assert set(SCHEMES) == set(REGISTRY)  # the hint offers exactly what an adapter serves
    for name in ("postgresql://", "sqlite:///", "mysql://", "mariadb://", "arangodb://"):
        assert name in message
    assert PW not in message


def test_one_slash_after_the_scheme_is_named() -> None:
    with pytest.raises(ConfigError, match="two slashes"):
        scheme("postgresql:/db/app")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://root@127.0.0.1:notaport/app", "bad port 'notaport'"),
        ("mysql://root@127.0.0.1:99999/app", "bad port '99999'"),
        ("mysql://root@[::1/app", "IPv6"),
        ("postgresql://u@db:0/app", "port 0"),
    ],
)
def test_bad_host_or_port_is_a_config_error(url: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        server_parts(url)
    assert words in str(err.value)


def test_libpq_target_names_what_an_empty_url_connects_to() -> None:
    env = {"PGHOST": "db.internal", "PGUSER": "deploy", "PGDATABASE": "shop"}
    target = libpq_target("postgresql://", env)
    assert target is not None
    assert "host db.internal" in target and "database shop" in target and "user deploy" in target
    # the user's name is libpq's default database
    alone = libpq_target("postgresql:///", {"PGUSER": "deploy"})
    assert alone is not None and "database deploy" in alone and "host local socket" in alone
    assert libpq_target("postgresql://u@db/app", env) is None  # nothing filled in
