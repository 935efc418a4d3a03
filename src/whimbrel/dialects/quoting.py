"""Identifier and string quoting, shared by dialects and adapters.

Kept free of the DSL so the migrator's bookkeeping (a no-op ``migrate``)
imports nothing it does not run.

>>> qualified("posts", "blog", "`")
'`blog`.`posts`'
"""

from __future__ import annotations


def quote(name: str, char: str = '"') -> str:
    """Quote an identifier, doubling any quote character inside it."""
    return f"{char}{name.replace(char, char + char)}{char}"


def qualified(name: str, prefix: str | None, char: str = '"') -> str:
    """``"prefix"."name"``, or ``"name"`` without a prefix."""
    return f"{quote(prefix, char)}.{quote(name, char)}" if prefix else quote(name, char)


def string_literal(value: str) -> str:
    """A SQL string literal with ``'`` doubled; NUL bytes cannot be stored."""
    if "\x00" in value:
        raise ValueError(f"string {value!r} holds a NUL byte, which SQL cannot store")
    return "'" + value.replace("'", "''") + "'"
