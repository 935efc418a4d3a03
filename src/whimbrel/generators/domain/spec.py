"""The domain file: a TOML description of a domain's entities, read and checked.

Format (see docs/generators.md for every key)::

    domain = "library"                  # names the migration: create_library_tables
    multi_tenant = false                # true: tenant_id on every table

    [entities.author]                   # table "authors" (override with table = "...")
    fields = { name = { type = "string", required = true }, bio = "text" }

    [entities.book]
    fields.title = { type = "string", required = true }
    fields.price = { type = "decimal", precision = 10, scale = 2, default = 0 }
    belongs_to.author = { required = true }         # author_id -> authors
    belongs_to.editor = { entity = "author" }       # editor_id -> authors, optional

Every problem is collected, named by entity and field, and reported at once
(``UsageError``, exit 2) before anything is rendered.

Example::

    >>> entities = {"order": {"fields": {"total": "decimal"}}}
    >>> d = parse_domain({"domain": "shop", "entities": entities})
    >>> d.entities[0].table, d.entities[0].fields[0].type
    ('orders', 'decimal')
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whimbrel.errors import UsageError
from whimbrel.generators.naming import MAX_IDENTIFIER, is_identifier, pluralize

#: Field types: Ecto's names, as in the migration DSL.
TYPES = (
    "string",
    "text",
    "integer",
    "bigint",
    "float",
    "decimal",
    "boolean",
    "binary",
    "map",
    "date",
    "time",
    "utc_datetime",
    "utc_datetime_usec",
    "naive_datetime",
    "naive_datetime_usec",
    "uuid",
    "binary_id",
)
_TEXT = (str,)
_TEMPORAL = (str, dt.date, dt.time, dt.datetime)
#: Which TOML values a ``default`` may be, by field type.
_DEFAULTS: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "bigint": (int,),
    "float": (int, float),
    "decimal": (int, float, str),
    "boolean": (bool,),
    "map": (dict,),
    **{t: _TEMPORAL for t in TYPES if t.startswith(("date", "time", "utc_", "naive_"))},
}
TOP_KEYS = ("domain", "multi_tenant", "entities")
ENTITY_KEYS = ("table", "fields", "belongs_to")
FIELD_KEYS = ("type", "required", "default", "default_sql", "precision", "scale", "size")
RELATION_KEYS = ("entity", "required")
#: Columns every table gets, besides the fields: (column, where it comes from).
KEY_COLUMN = ("id", "the primary key")
TENANT_COLUMN = ("tenant_id", "multi_tenant")
TIMESTAMP_COLUMNS = (("inserted_at", "timestamps()"), ("updated_at", "timestamps()"))


@dataclass(frozen=True)
class Field:
    """A column declared in ``fields``; ``default`` is None when not given."""

    name: str
    type: str
    required: bool = False
    default: Any = None
    default_sql: str | None = None
    precision: int | None = None
    scale: int | None = None
    size: int | None = None


@dataclass(frozen=True)
class Relation:
    """``belongs_to.<name>``: a ``<name>_id`` column referencing ``entity``'s table."""

    name: str
    entity: str
    required: bool = False

    @property
    def column(self) -> str:
        return f"{self.name}_id"


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    fields: tuple[Field, ...] = ()
    belongs_to: tuple[Relation, ...] = ()


@dataclass(frozen=True)
class Domain:
    """A checked domain: every relation names an entity, no column is made twice."""

    name: str
    entities: tuple[Entity, ...]
    multi_tenant: bool = False

    def entity(self, name: str) -> Entity:
        return next(e for e in self.entities if e.name == name)

    @property
    def migration_name(self) -> str:
        return f"create_{self.name}_tables"


class _Problems:
    """Collects what is wrong, each message naming where."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.messages.append(f"{where}: {message}" if where else message)

    def unknown_keys(self, where: str, given: Iterable[str], allowed: tuple[str, ...]) -> None:
        for key in given:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.add(where, f"unknown key {key!r}{hint}; the keys are {', '.join(allowed)}")

    def identifier(self, where: str, what: str, name: str) -> None:
        if not is_identifier(name):
            self.add(
                where,
                f"{what} {name!r} is not a plain identifier: use letters, digits and "
                f"underscores, starting with a letter, at most {MAX_IDENTIFIER} characters",
            )


def load_domain(path: Path) -> Domain:
    """Read and check a domain file; ``UsageError`` (exit 2) names every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the domain file {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}; fix the file and run again") from None
    return parse_domain(data, str(path))


def parse_domain(data: Mapping[str, Any], source: str = "domain file") -> Domain:
    """Check the parsed TOML and build a ``Domain`` (pure)."""
    problems = _Problems()
    problems.unknown_keys("", data, TOP_KEYS)
    name = data.get("domain")
    if not isinstance(name, str) or not _snake(name):
        problems.add(
            "",
            f"domain = {name!r}: give the domain a lowercase snake_case name, e.g. "
            'domain = "library" (it names the migration create_<domain>_tables)',
        )
    multi_tenant = data.get("multi_tenant", False)
    if not isinstance(multi_tenant, bool):
        problems.add("", f"multi_tenant = {multi_tenant!r}: use true or false")
    entities = _entities(data.get("entities"), problems)
    domain = Domain(str(name), tuple(entities), multi_tenant is True)
    _check_relations(domain, problems)
    _check_tables(domain, problems)
    for entity in domain.entities:
        _check_columns(domain, entity, problems)
    if problems.messages:
        count = len(problems.messages)
        listing = "\n  - ".join(problems.messages)
        raise UsageError(
            f"{source}: {count} problem{'s' if count > 1 else ''} in the domain "
            f"(nothing was written):\n  - {listing}"
        )
    return domain


def _snake(name: str) -> bool:
    return is_identifier(name) and name == name.lower() and name[0].isalpha()


def _entities(raw: object, problems: _Problems) -> list[Entity]:
    if not isinstance(raw, dict) or not raw:
        problems.add("", "no entities: add at least one [entities.<name>] table")
        return []
    return [e for name, spec in raw.items() if (e := _entity(name, spec, problems)) is not None]


def _entity(name: str, spec: object, problems: _Problems) -> Entity | None:
    where = f"entity {name!r}"
    problems.identifier(where, "the entity name", name)
    if not isinstance(spec, dict):
        problems.add(where, "must be a table, e.g. [entities.<name>] with fields = {...}")
        return None
    problems.unknown_keys(where, spec, ENTITY_KEYS)
    table = spec.get("table", pluralize(name))
    if isinstance(table, str):
        problems.identifier(where, "the table name", table)
    else:
        problems.add(where, f"table = {table!r}: give the table name as a string")
    fields = [
        f
        for field, fspec in _table(spec, "fields", where, problems).items()
        if (f := _field(f"{where}, field {field!r}", field, fspec, problems)) is not None
    ]
    relations = [
        r
        for rel, rspec in _table(spec, "belongs_to", where, problems).items()
        if (r := _relation(f"{where}, belongs_to {rel!r}", rel, rspec, problems)) is not None
    ]
    return Entity(name, str(table), tuple(fields), tuple(relations))


def _table(spec: dict[str, Any], key: str, where: str, problems: _Problems) -> dict[str, Any]:
    value = spec.get(key, {})
    if not isinstance(value, dict):
        problems.add(where, f"{key} must be a table of names, e.g. {key} = {{ name = ... }}")
        return {}
    return value


def _field(where: str, name: str, spec: object, problems: _Problems) -> Field | None:
    problems.identifier(where, "the field name", name)
    opts = {"type": spec} if isinstance(spec, str) else spec
    if not isinstance(opts, dict):
        problems.add(where, 'give a type ("text") or a table ({ type = "text", required = true })')
        return None
    problems.unknown_keys(where, opts, FIELD_KEYS)
    type_ = opts.get("type")
    if type_ not in TYPES:
        close = difflib.get_close_matches(str(type_), TYPES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.add(where, f"unknown type {type_!r}{hint}; the types are {', '.join(TYPES)}")
        return None
    field = Field(
        name,
        type_,
        required=_bool(where, opts, "required", problems),
        default=_default(where, type_, opts.get("default"), problems),
        default_sql=_text(where, opts, "default_sql", problems),
        precision=_int(where, opts, "precision", problems),
        scale=_int(where, opts, "scale", problems),
        size=_int(where, opts, "size", problems),
    )
    _check_field(where, field, problems)
    return field


def _check_field(where: str, f: Field, problems: _Problems) -> None:
    if f.default is not None and f.default_sql is not None:
        problems.add(where, "give default or default_sql, not both")
    if (f.precision is not None or f.scale is not None) and f.type != "decimal":
        problems.add(where, f"precision and scale apply to decimal fields, not {f.type}")
    if f.scale is not None and f.precision is None:
        problems.add(where, f"scale = {f.scale} needs precision: add precision = <digits>")
    if f.precision is not None and (f.precision < 1 or not 0 <= (f.scale or 0) <= f.precision):
        problems.add(where, "precision must be at least 1 and scale between 0 and precision")
    if f.size is not None and (f.type != "string" or f.size < 1):
        problems.add(where, "size applies to string fields and must be at least 1")


def _bool(where: str, opts: dict[str, Any], key: str, problems: _Problems) -> bool:
    value = opts.get(key, False)
    if not isinstance(value, bool):
        problems.add(where, f"{key} = {value!r}: use true or false")
    return value is True


def _int(where: str, opts: dict[str, Any], key: str, problems: _Problems) -> int | None:
    value = opts.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        problems.add(where, f"{key} = {value!r}: use a whole number")
        return None
    return value


def _text(where: str, opts: dict[str, Any], key: str, problems: _Problems) -> str | None:
    value = opts.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        problems.add(where, f'{key} = {value!r}: give SQL text, e.g. {key} = "now()"')
        return None
    return value


def _default(where: str, type_: str, value: Any, problems: _Problems) -> Any:
    """The default as a DSL value; dates and times from TOML become ISO text."""
    if value is None:
        return None
    allowed = _DEFAULTS.get(type_, _TEXT)
    if isinstance(value, bool) and bool not in allowed or not isinstance(value, allowed):
        problems.add(
            where,
            f"default = {value!r} does not suit a {type_} field; use default_sql for an SQL "
            "expression",
        )
        return None
    if isinstance(value, float) and not math.isfinite(value):
        problems.add(where, f"default = {value!r}: give a finite number")
        return None
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _relation(where: str, name: str, spec: object, problems: _Problems) -> Relation | None:
    problems.identifier(where, "the relation name", name)
    if not isinstance(spec, dict):
        problems.add(where, 'must be a table, e.g. { required = true } or { entity = "author" }')
        return None
    problems.unknown_keys(where, spec, RELATION_KEYS)
    entity = spec.get("entity", name)
    if not isinstance(entity, str):
        problems.add(where, f"entity = {entity!r}: give the entity's name as a string")
        return None
    return Relation(name, entity, _bool(where, spec, "required", problems))


def _check_relations(domain: Domain, problems: _Problems) -> None:
    names = [e.name for e in domain.entities]
    for entity in domain.entities:
        for rel in entity.belongs_to:
            if rel.entity not in names:
                close = difflib.get_close_matches(rel.entity, names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.add(
                    f"entity {entity.name!r}, belongs_to {rel.name!r}",
                    f"refers to the entity {rel.entity!r}, which the domain does not define"
                    f"{hint}; the entities are {', '.join(names)}",
                )


def _check_tables(domain: Domain, problems: _Problems) -> None:
    """Two entities on one table (``table = ...``, or names differing only in case)."""
    seen: dict[str, str] = {}
    for entity in domain.entities:
        other = seen.setdefault(entity.table.lower(), entity.name)
        if other != entity.name:
            problems.add(
                f"entity {entity.name!r}",
                f"its table {entity.table!r} is also the table of entity {other!r} "
                '(compared ignoring case): set table = "..." on one of them',
            )


def _check_columns(domain: Domain, entity: Entity, problems: _Problems) -> None:
    """A column made twice: a field named like a generated column, or like another field.

    TOML already refuses the same key twice; names differing only in case are
    caught here, since they collide in most databases and in most readers' heads.
    """
    # Generated columns first, so a clash is reported against the declared name.
    columns: list[tuple[str, str]] = [KEY_COLUMN, *TIMESTAMP_COLUMNS]
    columns += [TENANT_COLUMN] if domain.multi_tenant else []
    columns += [(r.column, f"belongs_to {r.name!r}") for r in entity.belongs_to]
    columns += [(f.name, f"field {f.name!r}") for f in entity.fields]
    seen: dict[str, str] = {}
    for column, origin in columns:
        first = seen.setdefault(column.lower(), origin)
        if first != origin:
            problems.add(
                f"entity {entity.name!r}, {origin}",
                f"makes the column {column!r}, which {first} already makes "
                "(names are compared ignoring case): rename it",
            )
    _check_index_names(domain, entity, problems)


def _check_index_names(domain: Domain, entity: Entity, problems: _Problems) -> None:
    """PostgreSQL cuts longer names to 63 characters, which can make two names one."""
    tenant = "tenant_id_" if domain.multi_tenant else ""
    names = [(f"belongs_to {r.name!r}", f"{entity.table}_{tenant}{r.column}_index")
             for r in entity.belongs_to]  # fmt: skip
    if domain.multi_tenant and not entity.belongs_to:
        names.append(("multi_tenant", f"{entity.table}_tenant_id_index"))
    for origin, name in names:
        if len(name) > MAX_IDENTIFIER:
            problems.add(
                f"entity {entity.name!r}, {origin}",
                f"the index name {name!r} is longer than PostgreSQL's {MAX_IDENTIFIER} "
                "characters: shorten the table or relation name",
            )
