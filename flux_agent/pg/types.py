"""What PostgreSQL does with types and versions: type names as format_type() prints
them, binary-coercible casts, volatile functions, features by major version. Kept
apart from the planner so another dialect can be a sibling (the strong_migrations
adapter shape)."""

from __future__ import annotations

from typing import Optional

from ..errors import FluxInputError
from .parse import HAVE_PGLAST, ast, iter_nodes, parse_expr, parse_type, render
from .quote import ident, literal

if not HAVE_PGLAST:  # sqlglot stands in where the pglast wheel is missing
    from . import fallback as _fb


# pg_catalog internal name -> the name format_type() prints
_CANONICAL = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "varchar": "character varying",
    "bpchar": "character",
    "varbit": "bit varying",
    "timestamp": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
    "time": "time without time zone",
    "timetz": "time with time zone",
    "decimal": "numeric",
    "serial": "integer",
    "bigserial": "bigint",
    "smallserial": "smallint",
    "serial4": "integer",
    "serial8": "bigint",
    "serial2": "smallint",
}


BUILTIN_TYPES = {
    "smallint", "integer", "bigint", "real", "double precision", "numeric", "money",
    "boolean", "character varying", "character", "text", "name", "bytea", "bit", "bit varying",
    "timestamp without time zone", "timestamp with time zone", "time without time zone",
    "time with time zone", "date", "interval", "uuid", "json", "jsonb", "xml", "inet", "cidr",
    "macaddr", "macaddr8", "point", "line", "lseg", "box", "path", "polygon", "circle",
    "tsvector", "tsquery", "oid", "int4range", "int8range", "numrange", "tsrange", "tstzrange",
    "daterange", "jsonpath", "regclass", "pg_lsn", "txid_snapshot", "char",
}


# Types whose names put the modifier before "with/without time zone".
_ZONED = {"timestamp without time zone", "timestamp with time zone",
          "time without time zone", "time with time zone"}


def type_name(text: str) -> str:
    """Canonical type text (as format_type prints it) of a user-written type."""
    if not HAVE_PGLAST:
        return _fb.type_name(text)
    return canonical_type(parse_type(text))


def canonical_type(tn) -> str:
    names = [n.sval for n in tn.names]
    if len(names) == 2 and names[0] in ("pg_catalog", "public"):
        names = names[1:]
    base = names[-1]
    base = _CANONICAL.get(base, base) if len(names) == 1 else base
    mods = []
    for m in tn.typmods or ():
        if isinstance(m, ast.A_Const) and m.val is not None and hasattr(m.val, "ival"):
            mods.append(str(m.val.ival))
        else:
            mods.append(render(m))
    if base == "char" and tn.names and len(tn.names) == 2:
        base = "character"  # CHAR(n) parses to pg_catalog.bpchar
    if base == "interval" and mods:
        mods = []  # interval fields are rare; keep the plain type
    if len(names) == 2:
        text = f"{ident(names[0])}.{ident(names[1])}"
    elif base in BUILTIN_TYPES:
        text = base
    else:
        text = ident(base)
    if mods:
        if base in _ZONED:
            head, _, tail = base.partition(" ")
            text = f"{head}({','.join(mods)}) {tail}"
        else:
            text = f"{text}({','.join(mods)})"
    if tn.arrayBounds:
        text += "[]" * len(tn.arrayBounds)
    return text


def is_serial(text: str) -> bool:
    if not HAVE_PGLAST:
        return text.strip().lower() in {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}
    tn = parse_type(text)
    return tn.names[-1].sval in {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}


def check_type_known(type_text: str, known_extra: set[str]) -> str:
    """Canonical type, or exit-2 error when the type is not one PostgreSQL or the schema knows."""
    canonical = type_name(type_text)
    base = canonical.split("(")[0].rstrip("[]").strip()
    if base.endswith("]"):
        base = base.split("[")[0]
    plain = base.replace('"', "")
    if plain in BUILTIN_TYPES or plain in known_extra or base in known_extra:
        return canonical
    # Unquoted, PostgreSQL reads enum_Items_state as enum_items_state; the schema's one type of that
    # name in other cases (Sequelize's enum_<Table>_<column>) is the one meant, as tables are matched.
    cased = [k for k in known_extra if "." not in k and k.lower() == plain.lower()]
    if len(cased) == 1 and '"' not in base and "." not in base:
        return ident(cased[0]) + canonical[len(base):]
    raise FluxInputError(f"unknown type {type_text!r}: not a PostgreSQL type or an enum of this schema")


def type_parts(canonical: str) -> tuple[str, list[int], bool]:
    is_array = canonical.endswith("[]")
    core = canonical[:-2] if is_array else canonical
    if "(" in core:
        head, rest = core.split("(", 1)
        mods_text, _, tail = rest.partition(")")
        base = (head + tail).strip()
        mods = [int(x) for x in mods_text.split(",") if x.strip().isdigit()]
    else:
        base, mods = core, []
    return base, mods, is_array


# A length typmod's type without one means length 1 for these: the same type of any length instead.
_ANY_LENGTH = {"character": "bpchar", "bit": "bit varying"}


def cast_target(canonical: str) -> str:
    """The type to CAST a value to explicitly on its way into a column of type `canonical`: the type
    without its modifiers, the column's own assignment applying them. An explicit CAST to
    varchar(100) cuts a longer value short without a word; assigned to a varchar(100) column it
    fails ("value too long"), as ALTER COLUMN TYPE without USING does. numeric(p, s) and a time's
    precision round the same either way."""
    base, mods, is_array = type_parts(canonical)
    if not mods:
        return canonical
    return _ANY_LENGTH.get(base, base) + ("[]" if is_array else "")


def parsed(old: str, new: str) -> Optional[str]:
    """Where ALTER COLUMN TYPE old -> new reads each value as text and parses it (text -> timestamptz,
    varchar -> integer, ...): a SQL condition naming the column as `{col}` that a value which does not
    parse meets (pg_input_is_valid, PostgreSQL 16+); else None."""
    ob, _, oa = type_parts(old)
    nb, _, na = type_parts(new)
    textual = {"text", "character varying", "character", "citext"}
    if oa or na or ob not in textual or nb in textual:
        return None
    return f"{{col}} IS NOT NULL AND NOT pg_input_is_valid({{col}}, {literal(new)})"


def narrowing(old: str, new: str) -> Optional[str]:
    """Where ALTER COLUMN TYPE old -> new refuses some values the old type holds for the length or
    precision it gives them (varchar(200) -> varchar(100), numeric(12, 2) -> numeric(8, 2),
    integer -> smallint): a SQL condition naming the column as `{col}` that such a value meets; else None."""
    ob, om, oa = type_parts(old)
    nb, nm, na = type_parts(new)
    if oa or na:
        return None
    lengths = {"character varying", "character", "bit varying", "bit"}
    if nb in lengths and ob in lengths | {"text"} and nm and (not om or nm[0] < om[0]):
        fn = "bit_length" if nb.startswith("bit") else "char_length"
        return f"{fn}({{col}}) > {nm[0]}"
    if ob == "numeric" and nb == "numeric" and nm and (not om or nm[0] - (nm[1:] or [0])[0] < om[0] - (om[1:] or [0])[0]):
        digits = nm[0] - (nm[1:] or [0])[0]
        return f"abs({{col}}) >= 1e{digits}"
    if ob in _FLOATS and nb == "numeric" and nm:  # no bound of their own: any value may be too big
        return f"abs({{col}}) >= 1e{nm[0] - (nm[1:] or [0])[0]}"
    ints = {"smallint": 15, "integer": 31, "bigint": 63}
    if ob in ints and nb in ints and ints[nb] < ints[ob]:
        return f"{{col}} NOT BETWEEN {-(2 ** ints[nb])} AND {2 ** ints[nb] - 1}"
    return None


_FLOATS = ("real", "double precision")


def rounding(old: str, new: str) -> Optional[str]:
    """Where ALTER COLUMN TYPE old -> new rounds values to fewer decimal places (double precision
    or numeric -> numeric(p, s) with a smaller scale: 4.25 is 4.3 in numeric(3,1)): a SQL condition
    naming the column as `{col}` that a value changed so meets; else None."""
    ob, om, oa = type_parts(old)
    nb, nm, na = type_parts(new)
    if oa or na or nb != "numeric" or not nm:
        return None
    scale = (nm[1:] or [0])[0]
    if ob in _FLOATS or (ob == "numeric" and (not om or (om[1:] or [0])[0] > scale)):
        return f"{{col}}::numeric <> round({{col}}::numeric, {scale})"
    return None


def plain_using(cmd) -> bool:
    """An ALTER COLUMN TYPE command (pglast AlterTableCmd) without a USING clause, or with one that
    only names the column or casts it to the new type (`USING "c"::text`, which Django writes on
    every AlterField): PostgreSQL then converts as it does without one, and a binary-coercible
    change still touches only the catalog (checked: the table's relfilenode stays)."""
    using = cmd.def_.raw_default
    if using is None:
        return True
    if isinstance(using, ast.TypeCast):
        if using.typeName is None or canonical_type(using.typeName) != canonical_type(cmd.def_.typeName):
            return False
        using = using.arg
    return (isinstance(using, ast.ColumnRef) and len(using.fields) == 1 and isinstance(using.fields[0], ast.String)
            and using.fields[0].sval == cmd.name)


_COLLATABLE = frozenset({"text", "character varying", "character", "bpchar", "varchar", "char", "citext", "name"})


def collatable(canonical: str) -> bool:
    """Whether a column of the type (canonical, format_type's) takes a collation: the character
    types and citext, and arrays of them (a domain or another extension's type: not known, so no)."""
    return type_parts(canonical)[0] in _COLLATABLE


def binary_coercible(old: str, new: str) -> bool:
    """True when ALTER COLUMN TYPE old -> new changes only the catalog (no rewrite, no scan)."""
    if old == new:
        return True
    ob, om, oa = type_parts(old)
    nb, nm, na = type_parts(new)
    if oa != na:
        return False
    if ob == "character varying" and nb == "character varying":
        return not nm or (bool(om) and nm[0] >= om[0])
    if ob == "character varying" and nb == "text":
        return True
    if ob == "numeric" and nb == "numeric":
        if not nm:
            return True
        if not om:
            return False
        scale_old = om[1] if len(om) > 1 else 0
        scale_new = nm[1] if len(nm) > 1 else 0
        return scale_new == scale_old and nm[0] >= om[0]
    if ob == "bit varying" and nb == "bit varying":
        return not nm or (bool(om) and nm[0] >= om[0])
    if ob in _ZONED and nb == ob:
        return not nm or (bool(om) and nm[0] >= om[0])
    return False


# Functions whose result may differ row by row. A default using one of these
# (or any function not known to be stable) makes ADD COLUMN rewrite the table.
_NON_VOLATILE_FUNCS = {
    "now", "lower", "upper", "length", "coalesce", "concat", "abs", "round", "floor", "ceil",
    "to_char", "to_timestamp", "to_date", "date_trunc", "jsonb_build_object", "json_build_object",
    "jsonb_build_array", "array_length", "greatest", "least", "nullif", "trim", "btrim",
    "substring", "substr", "replace", "md5", "transaction_timestamp", "statement_timestamp",
    "make_date", "make_interval", "char_length", "left", "right", "lpad", "rpad",
}


def is_volatile(expression: str) -> bool:
    node = parse_expr(expression, "default")
    if not HAVE_PGLAST:
        stable = _NON_VOLATILE_FUNCS | {"current_timestamp", "currenttimestamp", "cast", "trycast"}
        return bool(_fb.function_names(node) - stable)
    return volatile_tree(node)


def volatile_tree(node) -> bool:
    """is_volatile of an expression's tree as the parser gave it (a default in a statement being
    judged: printing it to parse it again cost the rules more than the rest of judging it)."""
    for n in iter_nodes(node):
        if isinstance(n, ast.SubLink):
            return True
        if isinstance(n, ast.FuncCall) and n.funcname[-1].sval.lower() not in _NON_VOLATILE_FUNCS:
            return True
    return False


def fast_default_supported(pg_version: int) -> bool:
    return pg_version >= 11


def not_null_uses_check(pg_version: int) -> bool:
    """PG 12+ skips the SET NOT NULL scan when a validated CHECK (col IS NOT NULL) exists."""
    return pg_version >= 12


def concurrent_enum_needed(pg_version: int) -> bool:
    return pg_version < 12


# Types with no equality operator: `a IS DISTINCT FROM b` on them fails ("operator does not
# exist: point = point"), so their values are compared as text.
_NO_EQUALITY = {"json", "point", "line", "lseg", "box", "path", "polygon", "circle", "xml"}


def distinct_sql(a: str, b: str, type_text: str, negate: bool = False) -> str:
    """`a IS [NOT] DISTINCT FROM b` for values of `type_text`, where the type can compare them."""
    base = type_text.split("(")[0].strip().rstrip("[]").strip().lower()
    if base in _NO_EQUALITY:
        a, b = f"CAST({a} AS text)", f"CAST({b} AS text)"
    return f"{a} IS {'NOT ' if negate else ''}DISTINCT FROM {b}"


# Operator classes an index gets without naming one, by access method, as far as a reader that
# sees no catalog can tell: btree's and hash's `<type>_ops` (the non-default btree ones are the
# `*_pattern_ops`), brin's `*_minmax_ops`, and the defaults of the built-in gin and gist types.
_DEFAULT_OPCLASSES = {
    "gin": {"jsonb_ops", "array_ops", "tsvector_ops", "gin_hstore_ops"},
    "gist": {"point_ops", "box_ops", "poly_ops", "circle_ops", "tsvector_ops", "tsquery_ops", "range_ops",
             "multirange_ops", "gist_hstore_ops"} | {f"gist_{t}_ops" for t in (  # btree_gist's
                 "int2 int4 int8 float4 float8 numeric text bpchar bytea bit vbit bool date time timetz timestamp "
                 "timestamptz interval oid cash macaddr macaddr8 inet cidr uuid enum").split()},
    "spgist": {"box_ops", "inet_ops", "poly_ops", "quad_point_ops", "range_ops", "text_ops"},
}


def default_opclass(method: str, opclass: str) -> bool:
    """Is `opclass` (as written) the default an index of `method` would get anyway?"""
    name = opclass.lower().split(".")[-1]
    if method in ("btree", "hash"):
        return name.endswith("_ops") and not name.endswith("_pattern_ops")
    if method == "brin":
        return name.endswith("_minmax_ops")
    return name in _DEFAULT_OPCLASSES.get(method, set())
