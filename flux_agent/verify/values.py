"""Synthetic values by PostgreSQL type: as SQL over a row number `g` (seeding)
and as Python values over a counter (the load workers). Both are unique per
row number where the type allows it, positive, and small enough to fit the
narrowest integer or numeric column."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from typing import Any, Optional

from psycopg.types.json import Json, Jsonb

from ..model.schema import Schema
from ..pg.parse import parse_sql
from ..pg.quote import canonical_table, literal, qname

_MODS = re.compile(r"^(?P<base>[a-z ]+?)(?:\((?P<mods>[0-9, ]+)\))?(?P<zone> with(?:out)? time zone)?$")
INTS = {"smallint": 32000, "integer": 2_000_000_000, "bigint": 9_000_000_000_000_000_000}
TEXTS = {"text", "character varying", "character", "name", "citext"}
_RANGES = {"int4range": "integer", "int8range": "bigint", "numrange": "numeric", "daterange": "date",
           "tsrange": "timestamp without time zone", "tstzrange": "timestamp with time zone"}


def split_type(type_text: str) -> tuple[str, list[int], bool]:
    """('numeric', [10, 2], False) for 'numeric(10,2)'; arrays say True."""
    t = type_text.strip()
    array = t.endswith("[]")
    t = t[:-2] if array else t
    m = _MODS.match(t)
    if not m:
        return t, [], array
    base = m.group("base") + (m.group("zone") or "")
    mods = [int(x) for x in m.group("mods").split(",")] if m.group("mods") else []
    return base, mods, array


def enum_values(schema: Schema, type_text: str) -> Optional[list[str]]:
    """The labels of the enum `type_text` names, as format_type prints it (quoted where its name
    needs quotes: Prisma's "Role", billing."Invoice")."""
    key = type_key(type_text)
    e = next((e for e in schema.enums if canonical_table(e.name) == key), None)
    return list(e.values) if e is not None else None


def type_key(type_text: str) -> str:
    """A type's name as format_type prints it -> the schema model's key (raw names, unqualified in
    public), read by PostgreSQL's own parser."""
    try:
        node = parse_sql(f"SELECT NULL::{type_text}")[0].stmt.targetList[0].val
        names = [n.sval for n in node.typeName.names]
    except Exception:  # not a plain type name: compared as it is
        return type_text
    return canonical_table(".".join(names)) if len(names) == 2 and "." not in names[1] else names[-1]


def _numeric_limit(mods: list[int]) -> tuple[int, int]:
    if not mods:
        return 1_000_000, 2
    precision, scale = mods[0], (mods[1] if len(mods) > 1 else 0)
    return max(1, 10 ** max(0, precision - scale) - 1), scale


def sql_value(type_text: str, g: str, salt: str, schema: Schema) -> Optional[str]:
    """SQL giving a value of `type_text` for row number `g` (a positive integer expression); None if unknown."""
    base, mods, array = split_type(type_text)
    if array:  # an array of a type with no value here: empty (netbox's int4range[] was given '1')
        inner = sql_value(type_text[:-2], g, salt, schema)
        return f"ARRAY[{inner}]::{type_text}" if inner else f"'{{}}'::{type_text}"
    choices = enum_values(schema, type_text)
    if choices:
        items = ", ".join(literal(v) for v in choices)
        return f"(ARRAY[{items}]::{qname(type_key(type_text))}[])[1 + ({g}) % {len(choices)}]"
    own = next((t for t in schema.types if canonical_table(t.name) == type_key(type_text)), None)
    if own is not None and own.over:  # a range of one value; a domain's base value (its checks may refuse it)
        inner = sql_value(own.over, g, salt, schema)
        if inner is None:
            return None
        return (f"{qname(own.name)}({inner}, {inner}, '[]')" if own.kind == "range"
                else f"({inner})::{qname(own.name)}")
    if base in INTS:
        return f"((({g}) - 1) % {INTS[base]} + 1)::{base}"
    if base in ("numeric", "decimal"):
        limit, scale = _numeric_limit(mods)
        frac = " + 0.25" if scale >= 2 else (" + 0.5" if scale == 1 else "")
        return f"(((({g}) - 1) % {limit})::numeric{frac})::{type_text}"
    if base in ("real", "double precision"):
        return f"(({g}) * 1.5)::{base}"
    if base == "money":
        return f"(({g})::numeric)::money"
    if base == "boolean":
        return f"(({g}) % 2 = 0)"
    if base in TEXTS:
        prefix = literal(f"{salt}-")
        text = f"({prefix} || ({g})::text)"
        if mods or base == "character":
            n = mods[0] if mods else 1
            text = f"(CASE WHEN length({text}) <= {n} THEN {text} ELSE right(({g})::text, {n}) END)"
        return f"{text}::{type_text}"
    if base == "uuid":
        return f"md5({literal(salt)} || ({g})::text)::uuid"
    if base == "date":
        return f"(date '2024-01-01' + (({g}) % 100000)::integer)"
    if base.startswith("timestamp") or base.startswith("time"):
        start = {"timestamp with time zone": "timestamptz '2024-01-01 00:00:00+00'",
                 "timestamp without time zone": "timestamp '2024-01-01 00:00:00'"}.get(base, "time '00:00'")
        step = "1 minute" if base.startswith("timestamp") else "1 second"
        return f"({start} + ({g}) * interval '{step}')::{type_text}"
    if base == "interval":
        return f"(({g}) * interval '1 second')"
    if base in ("json", "jsonb"):
        return f"{base}_build_object('n', {g}, 's', {literal(salt)})"
    if base == "bytea":
        return f"convert_to({literal(salt)} || ({g})::text, 'UTF8')"
    if base == "inet":
        return f"('10.0.0.0'::inet + ({g}))"
    if base == "cidr":
        return f"set_masklen('10.0.0.0'::inet + ({g}), 32)::cidr"
    if base in ("macaddr", "macaddr8"):  # 12 or 16 hex digits, a form both read
        return f"substr(md5({literal(salt)} || ({g})::text), 1, {12 if base == 'macaddr' else 16})::{base}"
    if base in _RANGES:  # [value, next value): the subtype's value of the row and the one after it
        low = sql_value(_RANGES[base], g, salt, schema)
        high = sql_value(_RANGES[base], f"({g}) + 1", salt, schema)
        return f"{base}({low}, {high})"
    if base == "tsvector":
        return f"to_tsvector('simple', {literal(salt)} || ' w' || ({g})::text)"
    return None


def castable_sql(type_text: str, target: str, g: str, salt: str, schema: Schema) -> Optional[str]:
    """SQL giving a value of the text type `type_text` for row `g` that casts to `target` (a column a
    plan converts: "<column>-1" casts to no integer, and verify failed a text -> integer plan on its
    own rows); None where `type_text` is no text type or `target` has no value here. A value too long
    for the column falls back to sql_value's."""
    base, mods, array = split_type(type_text)
    value = sql_value(target, g, salt, schema) if base in TEXTS and not array else None
    if value is None:
        return None
    text = f"({value})::text"
    if mods or base == "character":
        text = f"(CASE WHEN length({text}) <= {mods[0] if mods else 1} THEN {text} END)"
        return f"coalesce({text}, {sql_value(type_text, g, salt, schema)})"
    return f"{text}::{type_text}"


def py_castable(type_text: str, target: str, n: int, token: str, schema: Schema) -> Any:
    """castable_sql's, as a Python value (an application's writes to the column, verify --load)."""
    base, _, array = split_type(type_text)
    value = py_value(target, n, token, schema) if base in TEXTS and not array else None
    if isinstance(value, (Json, Jsonb)):
        return json.dumps(value.obj)
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def py_value(type_text: str, n: int, token: str, schema: Schema) -> Any:
    """A Python value of `type_text` for counter `n` (psycopg adapts it); None if unknown.
    `token` makes text and uuid values unique across writers."""
    base, mods, array = split_type(type_text)
    if array:
        inner = py_value(type_text[:-2], n, token, schema)
        return None if inner is None else [inner]
    choices = enum_values(schema, type_text)
    if choices:
        return choices[n % len(choices)]
    if base in INTS:
        return (n % min(INTS[base], 30000)) + 1
    if base in ("numeric", "decimal"):
        limit, scale = _numeric_limit(mods)
        value = Decimal(n % min(limit, 30000))
        return value + (Decimal("0.25") if scale >= 2 else Decimal("0.5") if scale == 1 else 0)
    if base in ("real", "double precision"):
        return n * 1.5
    if base == "boolean":
        return n % 2 == 0
    if base in TEXTS:
        text = f"{token}-{n}"
        limit = mods[0] if mods else (1 if base == "character" else None)
        return text[-limit:] if limit else text
    if base == "uuid":
        return uuid.uuid5(uuid.NAMESPACE_URL, f"{token}-{n}")
    if base == "date":
        return dt.date(2024, 1, 1) + dt.timedelta(days=n % 100000)
    if base == "timestamp with time zone":
        return dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=n)
    if base == "timestamp without time zone":
        return dt.datetime(2024, 1, 1) + dt.timedelta(minutes=n)
    if base == "jsonb":
        return Jsonb({"n": n, "w": token})
    if base == "json":
        return Json({"n": n, "w": token})
    return None
