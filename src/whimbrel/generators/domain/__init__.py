"""``whimbrel gen domain``: one migration creating every table of a domain file.

The pieces, each usable alone:

- ``spec``: read and check the TOML domain file (``load_domain``, ``parse_domain``);
- ``order``: creation order of the tables, and the foreign keys a cycle postpones;
- ``render``: the pure ``render_domain(domain, version) -> (path, source)``;
- ``stamp``: the header checksum that tells generated files from edited ones;
- ``generate``: the file-system side: version reuse, overwrite rules, writing.

Example::

    domain = load_domain(Path("library.toml"))
    path, source = render_domain(domain, "20260101000000")
"""

from whimbrel.generators.domain.generate import generate_domain, reconcile_version
from whimbrel.generators.domain.render import render_domain
from whimbrel.generators.domain.spec import (
    Domain,
    Entity,
    Field,
    Relation,
    load_domain,
    parse_domain,
)

__all__ = [
    "Domain",
    "Entity",
    "Field",
    "Relation",
    "generate_domain",
    "load_domain",
    "parse_domain",
    "reconcile_version",
    "render_domain",
]
