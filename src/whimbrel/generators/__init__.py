"""Generators: new migration files, rendered from templates shipped in the package.

Each ``generate_*`` function writes one file and returns a ``Generated``
(path, source, status, next steps, warnings); each has a pure ``render_*``
counterpart that only returns source. The ``whimbrel gen`` commands are thin
calls into these. See docs/generators.md.

Example::

    from whimbrel.generators import generate_migration, generate_outbox

    generate_migration(Path("migrations"), "create_posts", template="create_table")
    generate_outbox(Path("migrations"), "outbox_messages", prefix="queue")
"""

from whimbrel.generators.domain import generate_domain, load_domain, render_domain
from whimbrel.generators.migration import TEMPLATES, generate_migration, render_migration
from whimbrel.generators.outbox import Outbox, generate_outbox, relay_query, render_outbox
from whimbrel.generators.templating import Generated

__all__ = [
    "TEMPLATES",
    "Generated",
    "Outbox",
    "generate_domain",
    "generate_migration",
    "generate_outbox",
    "load_domain",
    "relay_query",
    "render_domain",
    "render_migration",
    "render_outbox",
]
