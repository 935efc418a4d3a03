"""Configuration: ``[tool.whimbrel]`` in pyproject.toml, ``whimbrel.toml``, environment.

The files are looked for in the working directory, then in each parent folder
in turn, as git looks for ``.git``: the first folder holding a ``whimbrel.toml``
or a ``pyproject.toml`` with a ``[tool.whimbrel]`` table is the project's root,
and relative paths in it (migrations, SQLite files) are relative to it.
``Config.files`` names the files used.

Later sources win: pyproject.toml, then whimbrel.toml, then environment
variables (``DATABASE_URL``, ``WHIMBREL_<KEY>``), then explicit overrides
(command-line options). With no database configured, whimbrel uses the SQLite
file ``whimbrel.db`` beside the configuration.

Example::

    config = load_config(overrides={"database_url": "sqlite:///:memory:"})
    config.migrations_path  # Path('.../migrations')
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whimbrel.errors import ConfigError

#: key -> expected Python type(s) of its value
KEYS: dict[str, tuple[type, ...]] = {
    "database_url": (str,),
    "migrations_path": (str,),
    "tenant_migrations_path": (str,),
    "prefixes": (list,),
    "prefixes_query": (str,),
    "migration_source": (str,),
    "migration_lock": (bool, str),
    "migration_lock_wait": (int, float),
    "connect_timeout": (int, float),
    "strict_version_order": (bool,),
    "migration_primary_key": (dict,),
    "migration_foreign_key": (dict,),
    "migration_timestamps": (dict,),
    "lock_timeout": (str, int),
    "statement_timeout": (str, int),
    "lock_timeout_retries": (int,),
    "lock_timeout_retry_delay": (str, int),
    "lint": (str,),
    "jobs": (int,),
}
#: What lint findings do to `migrate`: log warnings, or stop the run (exit 2).
LINT_MODES = ("warn", "error", "off")
#: Keys of the table-valued settings (the DSL's defaults); others are refused.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "migration_primary_key": ("name", "type"),  # and any column option
    "migration_foreign_key": ("type", "column"),
    "migration_timestamps": ("inserted_at", "updated_at", "type", "default", "null"),
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$")
_SECONDS = {"us": 0.000001, "ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Config:
    """Resolved settings; paths are absolute."""

    root: Path
    database_url: str
    database_from: str
    migrations_path: Path
    tenant_migrations_path: Path
    prefixes: tuple[str, ...] = ()
    prefixes_query: str | None = None
    migration_source: str = "schema_migrations"
    #: True (the session lock), False (none) or "table" (a lease row, for poolers).
    migration_lock: bool | str = True
    migration_lock_wait: float | None = None
    #: Seconds for the whole connection handshake (TCP, greeting, authentication).
    connect_timeout: float = 10.0
    strict_version_order: bool = False
    migration_primary_key: dict[str, Any] = field(default_factory=dict)
    migration_foreign_key: dict[str, Any] = field(default_factory=dict)
    migration_timestamps: dict[str, Any] = field(default_factory=dict)
    lock_timeout: str | None = None
    statement_timeout: str | None = None
    #: Retries of a transactional migration that timed out waiting for a table lock.
    lock_timeout_retries: int = 0
    #: Seconds before the first retry; each later one waits twice as long (with jitter).
    lock_timeout_retry_delay: float = 1.0
    lint: str = "warn"
    #: Tenant prefixes ``migrate`` runs at once, each on its own connection (PostgreSQL).
    jobs: int = 1
    files: tuple[Path, ...] = ()


def load_config(
    config_path: str | os.PathLike[str] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Read and validate the configuration; raises ``ConfigError`` naming the key and fix."""
    env = os.environ if env is None else env
    base = Path(cwd or os.getcwd()).resolve()
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    files: list[Path] = []
    for path, table in _config_files(config_path, base):
        files.append(path)
        _merge(values, origin, table, str(path))
    root = files[-1].parent if files else base
    _merge(values, origin, _from_env(env), "environment")
    _merge(
        values,
        origin,
        {k: v for k, v in (overrides or {}).items() if v is not None},
        "command line",
    )
    return _build(values, origin, root, tuple(files))


def _config_files(
    config_path: str | os.PathLike[str] | None, base: Path
) -> list[tuple[Path, dict[str, Any]]]:
    if config_path is not None:
        path = (base / config_path).resolve()
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} does not exist: check --config")
        return [(path, _read(path))]
    for folder in (base, *base.parents):
        found = _config_in(folder)
        if found:
            return found
    return []


def _config_in(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The config files of one folder: ``whimbrel.toml``, and ``pyproject.toml`` when it has
    a ``[tool.whimbrel]`` table (a pyproject.toml without one does not stop the search)."""
    found = []
    for name in ("pyproject.toml", "whimbrel.toml"):
        path = folder / name
        if path.is_file():
            table = _read(path)
            if table or name == "whimbrel.toml" or _has_whimbrel_table(path):
                found.append((path, table))
    return found


def _has_whimbrel_table(path: Path) -> bool:
    """``[tool.whimbrel]`` present, even empty: the project's root is marked here."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return isinstance(data.get("tool", {}).get("whimbrel"), dict)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        return dict(data.get("tool", {}).get("whimbrel", {}))
    return data


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if env.get("DATABASE_URL"):
        out["database_url"] = env["DATABASE_URL"]
    for key, types in KEYS.items():
        raw = env.get(f"WHIMBREL_{key.upper()}")
        if raw is not None and raw != "":
            out[key] = _parse_env(key, raw, types)
    return out


def _parse_env(key: str, raw: str, types: tuple[type, ...]) -> Any:
    if bool in types:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        if str in types and raw == "table":
            return raw  # migration_lock = "table"
        extra = ' (or "table")' if str in types else ""
        raise ConfigError(
            f"WHIMBREL_{key.upper()}={raw!r} is not a boolean: use true or false{extra}"
        )
    if list in types:
        return [p.strip() for p in raw.split(",") if p.strip()]
    if dict in types:
        try:
            return dict(tomllib.loads(f"v = {raw}")["v"])
        except (tomllib.TOMLDecodeError, TypeError, ValueError):
            raise ConfigError(
                f"WHIMBREL_{key.upper()} must be a TOML inline table, "
                f"e.g. '{{type = \"binary_id\"}}'"
            ) from None
    if types == (int,):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(
                f"WHIMBREL_{key.upper()}={raw!r} is not a whole number: write e.g. 4"
            ) from None
    if float in types:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(
                f"WHIMBREL_{key.upper()}={raw!r} is not a number of seconds"
            ) from None
    return raw


def _merge(
    values: dict[str, Any], origin: dict[str, str], new: Mapping[str, Any], source: str
) -> None:
    for key, value in new.items():
        if key not in KEYS:
            raise ConfigError(
                f"{source}: unknown setting {key!r}{_did_you_mean(key, list(KEYS))}; "
                f"settings are: {', '.join(KEYS)}"
            )
        if not isinstance(value, KEYS[key]) or (isinstance(value, bool) and bool not in KEYS[key]):
            kinds = " or ".join(t.__name__ for t in KEYS[key])
            raise ConfigError(f"{source}: setting {key!r} must be a {kinds}, got {value!r}")
        values[key], origin[key] = value, source


def _build(
    values: dict[str, Any], origin: dict[str, str], root: Path, files: tuple[Path, ...]
) -> Config:
    url = values.get("database_url") or f"sqlite:///{root / 'whimbrel.db'}"
    if origin.get("database_url", "").endswith(".toml"):
        url = _beside_config(url, root)
    _validate(values, origin)
    prefixes = values.get("prefixes", [])
    wait = values.get("migration_lock_wait")
    return Config(
        root=root,
        database_url=url,
        database_from=origin.get("database_url", "default"),
        migrations_path=(root / values.get("migrations_path", "migrations")).resolve(),
        tenant_migrations_path=(
            root / values.get("tenant_migrations_path", "tenant_migrations")
        ).resolve(),
        prefixes=tuple(prefixes),
        prefixes_query=values.get("prefixes_query"),
        migration_source=values.get("migration_source") or _default_source(url),
        migration_lock=values.get("migration_lock", True),
        migration_lock_wait=None if wait is None else float(wait),
        connect_timeout=float(values.get("connect_timeout", 10)),
        strict_version_order=values.get("strict_version_order", False),
        migration_primary_key=values.get("migration_primary_key", {}),
        migration_foreign_key=values.get("migration_foreign_key", {}),
        migration_timestamps=values.get("migration_timestamps", {}),
        lock_timeout=_timeout(values.get("lock_timeout")),
        statement_timeout=_timeout(values.get("statement_timeout")),
        lock_timeout_retries=values.get("lock_timeout_retries", 0),
        lock_timeout_retry_delay=seconds(
            values.get("lock_timeout_retry_delay", "1s"), "lock_timeout_retry_delay"
        ),
        lint=values.get("lint", "warn"),
        jobs=values.get("jobs", 1),
        files=files,
    )


def _default_source(url: str) -> str:
    """``schema_migrations`` (Ecto's), or ``_migrations`` on ArangoDB (ArangoXEcto's)."""
    from whimbrel.adapters import is_arangodb

    try:
        arango = is_arangodb(url)
    except ConfigError:  # a malformed URL is reported when it connects, with the fix
        return "schema_migrations"
    return "_migrations" if arango else "schema_migrations"


def _validate(values: dict[str, Any], origin: dict[str, str]) -> None:
    """Checks across keys and inside values, each naming the source, the key and the fix."""
    prefixes = values.get("prefixes", [])
    if not all(isinstance(p, str) and p for p in prefixes):
        raise ConfigError(f"{origin.get('prefixes')}: prefixes must be a list of schema names")
    if values.get("migration_source") == "":
        raise ConfigError(
            f"{origin['migration_source']}: migration_source is empty: give the versions "
            'table\'s name, or leave it out for "schema_migrations"'
        )
    wait = values.get("migration_lock_wait")
    if wait is not None and wait < 0:
        raise ConfigError(
            f"{origin['migration_lock_wait']}: migration_lock_wait = {wait} is negative: "
            "give the seconds to wait for the lock, or leave it out to wait as long as it takes"
        )
    timeout = values.get("connect_timeout")
    if timeout is not None and timeout <= 0:
        raise ConfigError(
            f"{origin['connect_timeout']}: connect_timeout = {timeout} is not positive: give "
            "the seconds to wait for a connection (default 10)"
        )
    for key in TABLE_KEYS:
        _check_table(key, values.get(key, {}), origin.get(key, ""))
    lock = values.get("migration_lock", True)
    if isinstance(lock, str) and lock != "table":
        raise ConfigError(
            f"{origin['migration_lock']}: migration_lock = {lock!r}: use true (the session "
            'lock), false (no lock) or "table" (a lease row that works through a pooler)'
        )
    retries = values.get("lock_timeout_retries", 0)
    if isinstance(retries, bool) or retries < 0:
        raise ConfigError(
            f"{origin['lock_timeout_retries']}: lock_timeout_retries = {retries!r} must be a "
            "whole number of retries (0 or more)"
        )
    jobs = values.get("jobs", 1)
    if isinstance(jobs, bool) or jobs < 1:
        raise ConfigError(
            f"{origin['jobs']}: jobs = {jobs!r}: give how many tenant prefixes to migrate at "
            "once, 1 or more (1, the default, runs them one after another)"
        )
    for key in ("lock_timeout", "statement_timeout", "lock_timeout_retry_delay"):
        if key in values:
            seconds(values[key], key, origin[key])
    if values.get("lint", "warn") not in LINT_MODES:
        raise ConfigError(
            f"{origin['lint']}: lint = {values['lint']!r} is not a lint mode"
            f'{_did_you_mean(values["lint"], LINT_MODES)}: use "warn" (findings are warnings '
            'before migrate runs) or "error" (findings stop migrate with exit 2)'
        )


def _check_table(key: str, table: dict[str, Any], source: str) -> None:
    allowed = TABLE_KEYS[key]
    if key == "migration_primary_key" and table:
        from whimbrel.dsl.objects import ColumnOpts  # loaded only when the key is set

        allowed += tuple(ColumnOpts.__dataclass_fields__)
    for name in table:
        if name not in allowed:
            raise ConfigError(
                f"{source}: {key} has an unknown key {name!r}"
                f"{_did_you_mean(name, allowed)}; its keys are: {', '.join(allowed)}"
            )


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def seconds(value: str | int, setting: str, source: str = "") -> float:
    """A PostgreSQL-style duration in seconds: ``500`` (ms), ``"500ms"``, ``"5s"``, ``"1min"``.

    Checked when the configuration loads, so a bad value is a configuration
    error on every database; MySQL's adapter converts it with this too.
    """
    match = _DURATION.match(str(value))
    if match is None:
        where = f"{source}: " if source else ""
        raise ConfigError(
            f"{where}{setting} = {value!r} is not a duration: write milliseconds (5000) or a "
            'number with a unit: "500ms", "5s", "1min", "2h"'
        )
    return float(match[1]) * _SECONDS[match[2] or "ms"]


def _timeout(value: str | int | None) -> str | None:
    """Integers are milliseconds, as PostgreSQL reads them; strings pass through ("5s")."""
    return None if value is None else str(value)


def _beside_config(url: str, root: Path) -> str:
    """A relative SQLite path in a config file is relative to that file, like ``migrations_path``.

    >>> _beside_config("sqlite:///app.db", Path("/srv/app"))
    'sqlite:////srv/app/app.db'
    """
    prefix = "sqlite:///"
    path = url[len(prefix) :] if url.startswith(prefix) else None
    if path is None or path.startswith("/") or path.startswith(":memory:"):
        return url
    return f"{prefix}{(root / path).resolve()}"
