"""The migration DSL, for migration files: ``from whimbrel.migration import *``.

Example::

    from whimbrel.migration import *

    def change():
        with create(table("posts")):
            add("title", "string", null=False)
            timestamps()
        create(index("posts", ["title"]))

See ``docs/dsl.md`` for every command and option.
"""

from whimbrel.dsl.api import *  # noqa: F401
from whimbrel.dsl.api import __all__ as __all__
