"""``whimbrel gen domain FILE``: write (or rewrite) a domain's create-tables migration.

Regeneration rules:

- ``version`` pins the version (``--timestamp``), for byte-stable output.
- Otherwise an existing ``<version>_create_<domain>_tables.py`` is found
  (sub-folders too) and its version and folder are reused, so regenerating
  rewrites the same file. When several exist, the oldest is reused and the
  others are reported in a warning: two migrations with one name stop
  ``whimbrel migrate``, so they need deleting.
- A file with the same content is left alone (``"unchanged"``). A file whose
  header checksum still matches is overwritten (``"updated"``). A file edited
  by hand (checksum missing or different) is refused unless ``force=True``.
- ``dry_run=True`` renders and reports, and writes nothing.

Example::

    result = generate_domain(Path("library.toml"), Path("migrations"))
    result.status   # "created", "updated", "unchanged" or "dry-run"
"""

from __future__ import annotations

import re
from pathlib import Path

from whimbrel.errors import UsageError
from whimbrel.generators.domain.render import render_domain
from whimbrel.generators.domain.spec import load_domain
from whimbrel.generators.domain.stamp import untouched
from whimbrel.generators.naming import (
    check_version,
    new_version,
    same_name_migrations,
    used_versions,
)
from whimbrel.generators.templating import Generated, write_source

_VERSION = re.compile(r"^([0-9]+)_")


def reconcile_version(folder: Path, name: str) -> tuple[str | None, Path, list[Path]]:
    """The version and folder to reuse for migration ``name``, and the duplicates.

    Returns ``(None, folder, [])`` when no such migration exists yet; else the
    oldest ``.py`` file's version and folder, and every other file with the name.
    """
    existing = same_name_migrations(folder, name)
    python = [p for p in existing if p.suffix == ".py"]
    if not python:
        return None, folder, existing
    oldest = python[0]
    match = _VERSION.match(oldest.name)
    assert match is not None  # same_name_migrations only returns <version>_<name> files
    return match[1], oldest.parent, [p for p in existing if p != oldest]


def generate_domain(
    domain_file: Path,
    folder: Path,
    *,
    version: str | None = None,
    dry_run: bool = False,
    force: bool = False,
) -> Generated:
    """Render the domain's migration and write it by the rules above."""
    domain = load_domain(domain_file)
    name = domain.migration_name
    existing = same_name_migrations(folder, name)
    if version is None:
        found, folder, _ = reconcile_version(folder, name)
        version = found or new_version(folder)
    else:
        _refuse_taken(folder, check_version(version), name)
    path, source = render_domain(domain, version, folder)
    warnings = tuple(_duplicate_warning(path, [p for p in existing if p != path]))
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    edited = current is not None and current != source and not untouched(current)
    if dry_run:
        refused = (f"without --force, writing would be refused: {_edited(path)}",)
        return Generated(path, source, "dry-run", warnings=warnings + (refused if edited else ()))
    if current == source:
        return Generated(path, source, "unchanged", warnings=warnings)
    if edited and not force:
        raise UsageError(_edited(path))
    write_source(path, source)
    return Generated(path, source, "created" if current is None else "updated", warnings=warnings)


def _refuse_taken(folder: Path, version: str, name: str) -> None:
    other = used_versions(folder).get(int(version))
    if other is not None and not other.name.endswith(f"_{name}.py"):
        raise UsageError(
            f"--timestamp {version} is the version of {other} already: pick another timestamp"
        )


def _edited(path: Path) -> str:
    return (
        f"{path} was edited by hand since whimbrel generated it (its checksum no longer "
        "matches), and regenerating would lose those edits: move them into the domain file "
        "or a new migration, compare with --dry-run, or pass --force to overwrite it"
    )


def _duplicate_warning(path: Path, duplicates: list[Path]) -> list[str]:
    if not duplicates:
        return []
    listed = ", ".join(str(p) for p in duplicates)
    return [
        f"other migrations share the name of {path.name}: {listed}; only {path} is "
        "regenerated: delete the others (two migrations with one name stop whimbrel migrate)"
    ]
