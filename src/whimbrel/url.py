"""Database URLs: scheme lookup, checks, password masking and what libpq fills in.

Example::

    >>> mask("postgresql://app:s3cret@db:5432/app")
    'postgresql://app:***@db:5432/app'
    >>> mask("connect failed for postgresql://app:s3cret@db/app", "postgresql://app:s3cret@db/app")
    'connect failed for postgresql://app:***@db/app'
    >>> sqlite_path("sqlite:////var/lib/app.db")
    '/var/lib/app.db'
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

from whimbrel.errors import ConfigError

#: The schemes adapters are registered for (``whimbrel.adapters.REGISTRY`` checks it matches).
SCHEMES = ("postgresql", "postgres", "sqlite", "mysql", "mariadb", "arangodb", "arangodbs")
_EXAMPLES = (
    "postgresql://user@host:5432/db, sqlite:///path.db, "
    "mysql://user@host:3306/db, mariadb://user@host:3306/db or "
    "arangodb://user@host:8529/db"
)
#: ``scheme:/`` or ``scheme://``: a scheme only counts when a slash follows, so the
#: ``admin:`` of ``admin:pw@host/db`` is read as a user name, not a scheme.
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?P<slashes>/{1,3})")
#: ``scheme://user:password@`` anywhere in free text (a driver's message); the password
#: runs to the last ``@`` of the word, so unencoded ``@`` and ``/`` are covered.
_URL_IN_TEXT = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*:/{1,3}[^\s:/@'\"]*:)(?P<secret>[^\s'\"]*)@"
)
_PASSWORD_PARAM = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>[^&\s'\"]*)", re.IGNORECASE)
#: Secrets shorter than this are masked only where they stand in a URL: replacing
#: every "ab" in a message would make it unreadable.
_MIN_FREE_SECRET = 3
MASK = "***"


def mask(text: str, url: str | None = None) -> str:
    """``text`` with every password replaced by ``***``, for messages and logs.

    ``mask(url)`` masks one URL: the password of ``user:pw@host`` (with or
    without a scheme, unencoded ``@`` and ``/`` included) and a ``password=``
    query parameter. ``mask(text, url)`` masks a message that may quote the
    URL (a driver's error): the URL itself, anything URL-shaped, and each
    occurrence of ``url``'s password, raw or percent-decoded. It is pure, so
    adapters and the CLI call the same function.

    >>> mask("admin:pa/ss@db/app")
    'admin:***@db/app'
    >>> mask("mysql://u@db/app?password=pw&x=1")
    'mysql://u@db/app?password=***&x=1'
    >>> mask('invalid percent-encoded token: "s3c%ZZ"', "postgresql://u:s3c%ZZ@h/d")
    'invalid percent-encoded token: "***"'
    """
    if url is None:
        return _mask_url(text)
    masked = text.replace(url, _mask_url(url)) if url else text
    masked = _URL_IN_TEXT.sub(lambda m: m["head"] + MASK + "@", masked)
    masked = _PASSWORD_PARAM.sub(lambda m: m["head"] + MASK, masked)
    for secret in sorted(secrets(url), key=len, reverse=True):
        if len(secret) >= _MIN_FREE_SECRET:
            masked = masked.replace(secret, MASK)
    return masked


def secrets(url: str) -> set[str]:
    """The passwords a URL holds, as written and percent-decoded.

    >>> sorted(secrets("postgresql://u:p%40ss@h/d?password=two"))
    ['p%40ss', 'p@ss', 'two']
    """
    found = set()
    userinfo = _userinfo(_after_scheme(url)[1])
    if userinfo is not None and userinfo[1]:
        found.add(userinfo[1])
    found.update(m["secret"] for m in _PASSWORD_PARAM.finditer(url) if m["secret"])
    try:  # how a driver splits it: an unencoded / ends the password early
        split = urlsplit(url).password
    except ValueError:
        split = None
    if split and userinfo is not None:
        found.add(split)
    found |= {unquote(s) for s in found} | {quote(unquote(s), safe="") for s in found}
    return {s for s in found if s and s != MASK}


def _after_scheme(url: str) -> tuple[str, str]:
    """``("postgresql://", "u:p@h/d")``; ``("", url)`` without a scheme."""
    match = _SCHEME.match(url)
    return (url[: match.end()], url[match.end() :]) if match else ("", url)


def _userinfo(rest: str) -> tuple[str, str, int] | None:
    """``(user, password, index of the @)`` of ``user:password@host...``, else None.

    The user part ends at the *last* ``@`` before the query, so a password
    holding ``@`` or ``/`` is taken whole.
    """
    first_at = rest.find("@")
    if first_at < 0:
        return None
    query = rest.find("?", first_at)
    at = rest.rfind("@", 0, query if query >= 0 else len(rest))
    user, colon, password = rest[:at].partition(":")
    if re.search(r"\?[^@]*=", password):  # host:5432/db?opt=a@b: an @ in the query
        return None
    if not colon or "/" in user:
        return None
    return user, password, at


def _mask_url(url: str) -> str:
    head, rest = _after_scheme(url)
    info = _userinfo(rest)
    if info is not None:
        user, _, at = info
        rest = f"{user}:{MASK}{rest[at:]}"
    return head + _PASSWORD_PARAM.sub(lambda m: m["head"] + MASK, rest)


def scheme(url: str) -> str:
    """The URL's scheme without a driver suffix (``postgresql+psycopg`` → ``postgresql``)."""
    if "://" not in url:
        match = _SCHEME.match(url)
        if match and match["scheme"].split("+")[0].lower() in SCHEMES:
            raise ConfigError(
                f"database URL {mask(url)!r} needs two slashes after "
                f"'{match['scheme']}:': write {match['scheme']}://… (for example {_EXAMPLES})"
            )
        raise ConfigError(
            f"database URL {mask(url)!r} has no scheme: write it as {_EXAMPLES}; "
            f"the supported schemes are {', '.join(SCHEMES)}"
        )
    return url.split("://", 1)[0].split("+", 1)[0].lower()


@dataclass(frozen=True)
class ServerParts:
    """The parts of a server URL, checked: ``host`` and ``port`` may be None (driver default)."""

    host: str | None
    port: int | None
    user: str | None
    password: str | None
    database: str
    query: dict[str, str]


def server_parts(url: str) -> ServerParts:
    """Split and check a PostgreSQL or MySQL URL; a bad host or port is a ``ConfigError``.

    >>> server_parts("mysql://root@127.0.0.1:3306/app?charset=utf8mb4").port
    3306
    """
    shown = mask(url)
    info = _userinfo(_after_scheme(url)[1])
    if info is not None and re.search(r"[/?#]", info[1]):
        raise ConfigError(
            f"the password in database URL {shown!r} holds an unencoded / ? or #: "
            "percent-encode it (/ is %2F, ? is %3F, # is %23, @ is %40)"
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "Invalid IPv6 URL" for an unclosed [
        raise ConfigError(
            f"database URL {shown!r} cannot be read ({exc}): write an IPv6 host in brackets, "
            "e.g. mysql://user@[::1]:3306/db, and percent-encode @ / : ? # in the password"
        ) from None
    try:
        port = parts.port
    except ValueError:
        raw = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        raise ConfigError(
            f"database URL {shown!r} has a bad port {raw!r}: give a number from 1 to 65535, "
            "e.g. host:5432, or leave it out for the default"
        ) from None
    if port == 0:
        raise ConfigError(f"database URL {shown!r} has port 0: give a number from 1 to 65535")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return ServerParts(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        database=unquote(parts.path.lstrip("/")),
        query=query,
    )


def check(url: str) -> None:
    """Refuse a server URL whose host or port cannot be read, before any driver sees it."""
    if scheme(url) != "sqlite":
        server_parts(url)


def libpq_target(url: str, env: Mapping[str, str] | None = None) -> str | None:
    """What a PostgreSQL URL that leaves out host, database or user connects to.

    libpq fills each missing part: ``PGHOST`` (else the local socket),
    ``PGPORT`` (else 5432), ``PGUSER`` (else the operating-system user) and
    ``PGDATABASE`` (else the user's name). None when the URL names all three.

    >>> libpq_target("postgresql://", {"PGUSER": "app"})
    'host local socket, port 5432, database app, user app (libpq defaults: PGHOST, PGPORT, PGDATABASE, PGUSER, OS user)'
    """  # noqa: E501 - a doctest line
    env = os.environ if env is None else env
    parts = server_parts(url)
    host = parts.query.get("host") or parts.host
    user = parts.query.get("user") or parts.user
    database = parts.query.get("dbname") or parts.database
    if host and user and database:
        return None
    user = user or env.get("PGUSER") or _os_user()
    resolved = {
        "host": host or env.get("PGHOST") or "local socket",
        "port": str(parts.port or parts.query.get("port") or env.get("PGPORT") or 5432),
        "database": database or env.get("PGDATABASE") or user,
        "user": user,
    }
    shown = ", ".join(f"{k} {v}" for k, v in resolved.items())
    return f"{shown} (libpq defaults: PGHOST, PGPORT, PGDATABASE, PGUSER, OS user)"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        return "?"


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
