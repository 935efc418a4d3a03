"""Database URLs: scheme lookup and password masking.

Example::

    >>> mask("postgresql://app:s3cret@db:5432/app")
    'postgresql://app:***@db:5432/app'
    >>> sqlite_path("sqlite:////var/lib/app.db")
    '/var/lib/app.db'
"""

from __future__ import annotations

from urllib.parse import urlsplit

from whimbrel.errors import ConfigError


def mask(url: str) -> str:
    """The URL with its password replaced by ``***``, for messages and logs.

    The user part ends at the *last* ``@`` before the path, so an unencoded
    ``@`` inside a password is masked too.
    """
    scheme_part, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme_part}://{user}:***@{host}{slash}{path}"


def scheme(url: str) -> str:
    """The URL's scheme without a driver suffix (``postgresql+psycopg`` → ``postgresql``)."""
    if "://" not in url:
        raise ConfigError(
            f"database URL {mask(url)!r} has no scheme: write it as postgresql://user@host/db, "
            "sqlite:///path.db, mysql://user@host/db or arangodb://host"
        )
    return url.split("://", 1)[0].split("+", 1)[0].lower()


def sqlite_path(url: str) -> str:
    """The file of a ``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``:memory:`` URL."""
    rest = url.split("://", 1)[1]
    if not rest.startswith("/"):
        raise ConfigError(
            f"SQLite URL {url!r} needs three slashes: sqlite:///relative/path.db, "
            "sqlite:////absolute/path.db or sqlite:///:memory:"
        )
    path = rest[1:].split("?", 1)[0]
    if not path:
        raise ConfigError(f"SQLite URL {url!r} names no file: write sqlite:///whimbrel.db")
    return path


def database_name(url: str) -> str:
    """The database named in a server URL's path (empty when none)."""
    return urlsplit(url).path.lstrip("/")
