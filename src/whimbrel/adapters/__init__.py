"""Database adapters, chosen by URL scheme and imported lazily.

Example::

    adapter = adapter_for("sqlite:///whimbrel.db")
    with adapter:
        adapter.execute("SELECT 1")
"""

from __future__ import annotations

import importlib

from whimbrel.adapters.base import Adapter, Capabilities, Settings
from whimbrel.errors import ConfigError
from whimbrel.url import check, mask, scheme

#: URL scheme -> "module:class"; modules import their driver only on connect.
REGISTRY: dict[str, str] = {
    "postgresql": "whimbrel.adapters.postgres:PostgresAdapter",
    "postgres": "whimbrel.adapters.postgres:PostgresAdapter",
    "sqlite": "whimbrel.adapters.sqlite:SQLiteAdapter",
    "mysql": "whimbrel.adapters.mysql:MySQLAdapter",
    "mariadb": "whimbrel.adapters.mysql:MySQLAdapter",
    "arangodb": "whimbrel.adapters.arangodb:ArangoAdapter",
    "arangodbs": "whimbrel.adapters.arangodb:ArangoAdapter",
}


def adapter_class(url: str) -> type[Adapter]:
    """The adapter class registered for the URL's scheme."""
    name = scheme(url)
    target = REGISTRY.get(name)
    if target is not None:
        check(url)  # a bad host or port is a ConfigError here, not a driver's ValueError
    if target is None:
        raise ConfigError(
            f"unknown database URL scheme {name!r} in {mask(url)!r}: use one of "
            f"{', '.join(sorted(set(REGISTRY)))}"
        )
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def is_arangodb(url: str) -> bool:
    """Whether ``url`` is an ArangoDB URL (without importing any adapter).

    >>> is_arangodb("arangodb://root@db:8529/app"), is_arangodb("sqlite:///x.db")
    (True, False)
    """
    return REGISTRY.get(scheme(url), "").endswith(":ArangoAdapter")


def adapter_for(url: str, settings: Settings | None = None) -> Adapter:
    """A new, unconnected adapter for ``url`` (of the class ``Adapter.session_class`` names)."""
    return adapter_class(url).session_class()(url, settings)


__all__ = [
    "Adapter",
    "Capabilities",
    "Settings",
    "REGISTRY",
    "adapter_class",
    "adapter_for",
    "is_arangodb",
]
