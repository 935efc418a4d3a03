"""Writing Python source that ``ruff format`` leaves as it is.

Generated migrations must be lint-clean and stable, whatever names they hold.
The rule used here is the formatter's own fixed point: a call that fits on its
line is written flat; one that does not is exploded one argument per line
*with* a trailing comma, which ruff (like black) keeps exploded at any line
length ("magic trailing comma").

Example::

    >>> print(call("add", "title", "string", null=False).render(4))
    add("title", "string", null=False)
    >>> where = "relayed_at IS NULL AND failed_at IS NULL"
    >>> print(call("create", call("index", "outbox", ["relayed_at"], where=where)).render(0))
    create(
        index("outbox", ["relayed_at"], where="relayed_at IS NULL AND failed_at IS NULL"),
    )
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: ruff's default line length; projects with longer lines accept these too.
LINE_LENGTH = 88


def literal(value: Any) -> str:
    """A Python literal for a string, number, bool, None, list or dict.

    Strings use double quotes unless the text holds ``"`` and no ``'``, as ruff prefers.

    >>> literal('say "hi"'), literal("it's"), literal({"a": [1, 2.5, True]})
    ('\\'say "hi"\\'', '"it\\'s"', '{"a": [1, 2.5, True]}')
    """
    if isinstance(value, Raw):
        return value.code
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {value!r}")


def _string(text: str) -> str:
    quote = "'" if '"' in text and "'" not in text else '"'
    return quote + "".join(_char(c, quote) for c in text) + quote


_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _char(char: str, quote: str) -> str:
    if char == quote:
        return "\\" + char
    if char in _ESCAPES:
        return _ESCAPES[char]
    return char if char.isprintable() else repr(char)[1:-1]


@dataclass(frozen=True)
class Raw:
    """Code written as it is, e.g. a name or an expression."""

    code: str


@dataclass(frozen=True)
class Call:
    """A function call that renders flat when it fits, exploded when it does not."""

    name: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]

    def flat(self) -> str:
        return f"{self.name}({', '.join(_flat(a) for a in self._items())})"

    def render(self, indent: int, suffix: str = "", lead: int = 0) -> str:
        """The call on a line indented by ``indent`` spaces, then ``suffix``.

        The first line is returned unindented; ``lead`` counts the characters
        written before the call on that line (``key=``).
        """
        one_line = self.flat() + suffix
        if indent + lead + len(one_line) <= LINE_LENGTH:
            return one_line
        pad = " " * (indent + 4)
        lines = [f"{pad}{_render(item, indent + 4, ',')}" for item in self._items()]
        return "\n".join([f"{self.name}(", *lines, " " * indent + ")" + suffix])

    def _items(self) -> list[Any]:
        return [*self.args, *(_Keyword(k, v) for k, v in self.kwargs)]


@dataclass(frozen=True)
class _Keyword:
    name: str
    value: Any


def _flat(item: Any) -> str:
    if isinstance(item, _Keyword):
        return f"{item.name}={_flat(item.value)}"
    return item.flat() if isinstance(item, Call) else literal(item)


def _render(item: Any, indent: int, suffix: str) -> str:
    if isinstance(item, _Keyword):
        value = item.value
        if isinstance(value, Call):
            return f"{item.name}=" + value.render(indent, suffix, lead=len(item.name) + 1)
        return f"{item.name}={literal(value)}{suffix}"
    if isinstance(item, Call):
        return item.render(indent, suffix)
    return literal(item) + suffix


def call(function: str, /, *args: Any, **kwargs: Any) -> Call:
    """``call("add", "id", "binary_id", primary_key=True)``; ``None`` keywords are left out.

    A trailing underscore on a keyword is kept (``from_=``).
    """
    return Call(function, args, tuple((k, v) for k, v in kwargs.items() if v is not None))


def statement(code: Call | str, indent: int) -> str:
    """One line (or exploded call) of a function body at ``indent`` spaces."""
    text = code.render(indent) if isinstance(code, Call) else code
    return " " * indent + text


def import_line(module: str, names: set[str]) -> str:
    """``from module import a, b`` sorted as isort does; parenthesised when too long."""
    ordered = sorted(names)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= LINE_LENGTH:
        return line
    return "\n".join([f"from {module} import (", *(f"    {n}," for n in ordered), ")"])
