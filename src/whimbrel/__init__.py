"""whimbrel: Ecto-style, reversible schema migrations for Python.

Example::

    import whimbrel

    with whimbrel.Migrator.from_config() as migrator:
        migrator.up()
        for row in migrator.status():
            print(row.status, row.version, row.name)

Names are imported lazily so ``import whimbrel`` (and ``whimbrel --help``)
loads no database driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from whimbrel.config import Config, load_config
    from whimbrel.migrator.core import Migrated, MigrationStatus, Migrator

_LAZY = {
    "Migrator": "whimbrel.migrator.core",
    "MigrationStatus": "whimbrel.migrator.core",
    "Migrated": "whimbrel.migrator.core",
    "Config": "whimbrel.config",
    "load_config": "whimbrel.config",
    "errors": "whimbrel.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'whimbrel' has no attribute {name!r}")
    import importlib

    mod = importlib.import_module(module)
    return mod if name == "errors" else getattr(mod, name)


__all__ = [
    "Config",
    "Migrated",
    "MigrationStatus",
    "Migrator",
    "errors",
    "load_config",
    "__version__",
]
