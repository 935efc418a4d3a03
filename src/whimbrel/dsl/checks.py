"""Argument checks shared by the DSL modules: each failure names the problem and the fix.

Mistakes are caught while a migration records its commands, before any SQL
runs (Ecto's ``validate_type!``, ``validate_precision_opts!`` and friends).

Example::

    >>> check_choice("drop()", "mode", "cascde", ("restrict", "cascade"))
    Traceback (most recent call last):
    ...
    whimbrel.errors.MigrationDefinitionError: drop(): unknown mode 'cascde' (did you mean ...
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from whimbrel.dsl import recorder as _rec
from whimbrel.dsl.objects import ArrayType, ColumnOpts, ColumnType, Fragment, Reference
from whimbrel.errors import MigrationDefinitionError

F = TypeVar("F", bound=Callable[..., Any])

COLUMN_OPTIONS = tuple(ColumnOpts.__dataclass_fields__)
_DEFAULT_TYPES = (str, bool, int, float, Decimal, list, dict, Fragment, type(None))


def fail(message: str) -> MigrationDefinitionError:
    return MigrationDefinitionError(message)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def checked(fn: F) -> F:
    """Turn Python's "unexpected keyword argument" into a DSL error with the fix."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TypeError as exc:
            if exc.__traceback__ is None or exc.__traceback__.tb_next is not None:
                raise  # raised deeper down, not by the call itself
            params = fn.__code__.co_varnames[
                : fn.__code__.co_argcount + fn.__code__.co_kwonlyargcount
            ]
            unknown = [k for k in kwargs if k not in params]
            hint = "".join(f"unknown option {k!r}{did_you_mean(k, params)}; " for k in unknown)
            raise fail(
                f"{fn.__name__}(): {hint or str(exc).removeprefix(fn.__name__ + '() ') + '; '}"
                f"accepted: {', '.join(p for p in params if p not in ('args', 'kwargs'))}"
            ) from None

    return wrapper  # type: ignore[return-value]


def check_choice(where: str, option: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise fail(
            f"{where}: unknown {option} {value!r}{did_you_mean(str(value), choices)}; "
            f"use one of: {', '.join(choices)}"
        )
    return value


def check_name(where: str, what: str, value: object) -> str:
    """A table, column, type or value name: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise fail(f"{where}: {what} must be a non-empty string, got {value!r}")
    return value


def check_type(command: str, type_: object) -> ColumnType:
    if isinstance(type_, ArrayType | Reference):
        return type_
    if not isinstance(type_, str) or not type_.strip():
        raise fail(
            f'{command}: column type must be a type name such as "string" or "integer", '
            f"array(...) or references(...), got {type_!r}"
        )
    if type_ == "datetime":
        raise fail(
            f'{command}: the type "datetime" is ambiguous: use "utc_datetime" or '
            '"naive_datetime" (add "_usec" for microseconds)'
        )
    return type_


#: Options of another DSL call, often given to add() by mistake -> where they belong.
MISPLACED = {
    **dict.fromkeys(
        ("on_delete", "on_update", "match", "validate", "with_", "column"),
        'references(...), e.g. add("author_id", references("users", {key}=...))',
    ),
    **dict.fromkeys(
        ("unique", "using", "where", "include", "concurrently", "nulls_distinct"),
        'index(...), e.g. create(index("posts", ["col"], {key}=...))',
    ),
    **dict.fromkeys(
        ("engine", "options", "modifiers"),
        'table(...), e.g. create(table("posts", {key}=...))',
    ),
}


def column_opts(command: str, opts: dict[str, Any]) -> ColumnOpts:
    """Validate column options and build ``ColumnOpts``.

    >>> column_opts('add("x")', {"size": 10}).size
    10
    """
    for key in opts:
        if key in MISPLACED:
            raise fail(
                f"{command}: {key}= is not a column option: it belongs inside "
                + MISPLACED[key].format(key=key)
            )
        if key not in COLUMN_OPTIONS:
            raise fail(
                f"{command}: unknown option {key!r}{did_you_mean(key, COLUMN_OPTIONS)}; "
                f"column options are: {', '.join(COLUMN_OPTIONS)}"
            )
    if opts.get("fields") is not None and not isinstance(opts["fields"], str):
        raise fail(
            f'{command}: fields= takes the interval fields as text, e.g. "YEAR TO MONTH", '
            f"got {opts['fields']!r}"
        )
    if "scale" in opts and opts.get("precision") is None:
        raise fail(f"{command}: scale={opts['scale']} needs precision=: add precision=<digits>")
    if "default" in opts and not isinstance(opts["default"], _DEFAULT_TYPES):
        raise fail(
            f"{command}: default={opts['default']!r} is not a SQL value: use a string, "
            'number, bool, None, list, dict or fragment("sql")'
        )
    if opts.get("generated") is not None and not isinstance(opts["generated"], str):
        raise fail(
            f'{command}: generated= takes SQL text such as "ALWAYS AS (price * 2) STORED", '
            f"got {opts['generated']!r}"
        )
    return ColumnOpts(**opts)


def check_prefix(command: str, prefix: str | None) -> None:
    """An object's ``prefix=`` must agree with the prefix the migration runs in (as Ecto).

    Without a migration prefix any schema may be named; under ``--prefix
    tenant_a`` a different schema would write outside the tenant.
    """
    recorder = _rec.current_or_none()
    running = recorder.prefix if recorder is not None else None
    if prefix is not None and running is not None and prefix != running:
        raise fail(
            f'{command}: prefix="{prefix}" does not match the prefix this migration runs in, '
            f'"{running}": leave prefix= out (or use prefix=prefix()) so the object is '
            "created in the migration's schema"
        )
