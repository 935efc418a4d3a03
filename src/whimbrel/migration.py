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

from whimbrel.dsl.api import *  # noqa: F403
from whimbrel.dsl.api import __all__ as _core
from whimbrel.dsl.columns import *  # noqa: F403
from whimbrel.dsl.columns import __all__ as _columns
from whimbrel.dsl.enums import *  # noqa: F403
from whimbrel.dsl.enums import __all__ as _enums
from whimbrel.dsl.timescale_api import *  # noqa: F403
from whimbrel.dsl.timescale_api import __all__ as _timescale

__all__ = sorted([*_core, *_columns, *_enums, *_timescale])
