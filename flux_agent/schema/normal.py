"""One printed form for the expressions a Schema model carries.

Column defaults, CHECK expressions, index expressions and predicates and view
queries reach the model from migration SQL as its author wrote it, from
pg_dump and the catalogs as PostgreSQL prints its analysed trees
(`'x'::text`, `= ANY (ARRAY[...])`, `'-1'::integer`), from schema.rb and
Prisma in their own spellings. Every reader returns `normalise_schema` of what
it read, so the same database gives the same model whichever way it is read.

The normal form is SQL that PostgreSQL accepts in the same place with the same
meaning (the planner pastes defaults and checks into the SQL it writes):

* A literal's cast is dropped only where the context gives the literal that
  type back: a column default cast to the column's type (`'x'::text` on a text
  column is `'x'`, `'{}'::jsonb` on jsonb is `'{}'`); a comparison, LIKE or IN
  operand cast to the type of the other side (`score >= (0)::numeric` is
  `score >= 0`); a text cast in a function argument (`date_trunc('day'::text,
  at)`: an untyped literal resolves to text there), except in functions that
  take any type (`to_json`); the elements of an array or CASE of text literals.
  Elsewhere the cast stays: `now() - '1 day'::interval` keeps it, since
  `now() - '1 day'` reads `'1 day'` as a timestamp.
* A literal whose cast only spells its own type becomes that literal:
  `'-1'::integer` is `-1`, `'-1.5'::numeric` is `-1.5`; an untyped number or
  boolean string where a number or boolean is meant is written as one.
* The implicit `varchar -> text` coercion PostgreSQL shows, `(name)::text`,
  is dropped (not for `character(n)`, whose comparisons differ from text's).
* `x = ANY (ARRAY[a, b])` is `x IN (a, b)`, `x <> ALL (...)` is `x NOT IN (...)`;
  `~~`/`~~*` are LIKE/ILIKE; BETWEEN is the two comparisons PostgreSQL stores;
  nested AND/OR are flattened; `ARRAY[...]::T[]` casts each element (as
  PostgreSQL does when it parses it).
* `public.` is dropped from table, type and function names, `pg_catalog.` from
  functions called by name (PostgreSQL prints `"substring"(a, b)`);
  `nextval('seq'::regclass)` is spelled as PostgreSQL prints it with public on
  the search path. A NULL default is no default.

Text pglast cannot parse is kept as it is, and so is all text where pglast is
missing (Windows). The rewrites themselves are in normal_trees.py, what they know of types
in _normal_types.py.
"""

from __future__ import annotations

from typing import Optional

from ..model.schema import Index, Schema, Table
from ..pg.parse import HAVE_PGLAST, is_one_name, parse_expr, render
from ..pg.types import default_opclass

if HAVE_PGLAST:  # the rewrites read pglast's trees; without pglast (Windows) text is kept as read
    from . import normal_trees as _trees

__all__ = ["normal_expr", "normal_view", "normalise_schema", "is_string_type", "view_types", "default_text"]

_STRING_TYPES = ("text", "character varying", "character", "varchar", "bpchar")


def is_string_type(type_text: Optional[str]) -> bool:
    return bool(type_text) and type_text.split("(")[0].strip() in _STRING_TYPES and not type_text.endswith("]")


def normal_expr(text: Optional[str], types: Optional[dict[str, str]] = None,
                target: Optional[str] = None) -> Optional[str]:
    """`text` in the normal form every reader shares.

    `types` maps column names to their types; `target` is the type of the column
    when `text` is its default. Unparseable text comes back unchanged. A NULL
    constant is no expression (None), as pg_attrdef never stores one.
    """
    if text is None or not HAVE_PGLAST:
        return text
    return _trees.normal(text, tuple(sorted((types or {}).items())), target)


def normal_view(definition: Optional[str], types: Optional[dict[str, str]] = None) -> Optional[str]:
    """A view's query in the normal form, without a trailing `;`."""
    if definition is None:
        return None
    if not HAVE_PGLAST:
        return definition.strip().rstrip(";").strip()  # as a query pglast cannot parse is kept
    return _trees.view(definition, types or {})


def default_text(default: Optional[str], column_type: Optional[str] = None) -> Optional[str]:
    """A default in the normal form; `column_type` is the type of the column it belongs
    to. A default that does not parse is an error."""
    if default is None:
        return None
    node = parse_expr(default, "default")
    if not HAVE_PGLAST:
        return render(node)  # sqlglot's printing: the nearest to the normal form it can give
    return normal_expr(default, None, column_type)


def table_types(table: Table) -> dict[str, str]:
    return {c.name: c.type for c in table.columns}


def normalise_table(table: Table) -> None:
    """`table`'s defaults, checks and index expressions in normal form, in place."""
    types = table_types(table)
    key = tuple(sorted(types.items()))  # normal_expr's cache key, made once for the table, not per expression

    def normal(text: Optional[str], target: Optional[str] = None) -> Optional[str]:
        return text if text is None or not HAVE_PGLAST else _trees.normal(text, key, target)

    for c in table.columns:
        c.default = normal(c.default, c.type)
        c.generated = normal(c.generated, c.type)
    _normalise_indexes(table.indexes, types, normal)
    for k in table.constraints:
        k.expression = normal(k.expression)
        if k.kind == "exclude":
            k.columns = [c if c in types else normal(c) for c in k.columns]


def _normalise_indexes(indexes: list[Index], columns: dict[str, str], normal) -> None:
    """A table's or materialized view's indexes in normal form: `columns` its column names (their
    types), `normal` the expression normaliser."""
    for i in indexes:
        i.columns = [c if c in columns else normal(c) for c in i.columns]
        i.where = normal(i.where)
        opclasses = ["" if not o or default_opclass(i.method, o) else o.lower() for o in i.opclasses]
        i.opclasses = opclasses if any(opclasses) else []
        i.orders = [o.upper() for o in i.orders] if any(i.orders) else []


def normalise_schema(schema: Schema, in_place: bool = False) -> Schema:
    """A copy of `schema` (or `schema` itself) with every default, check, index
    expression and view query in normal form."""
    out = schema if in_place else schema.model_copy(deep=True)
    for t in out.tables:
        normalise_table(t)
    return normalise_views(out)


def normalise_views(schema: Schema) -> Schema:
    """`schema`'s view queries in normal form, in place (its tables normalised already)."""
    for v in schema.views:
        types = view_types(schema, v.depends_on)
        v.definition = normal_view(v.definition, types)
        if v.indexes and HAVE_PGLAST:
            key = tuple(sorted(types.items()))
            # The model keeps no view's columns: an item that is one name is a column, kept as read.
            names = {c: None for i in v.indexes for c in i.columns if is_one_name(c)}
            _normalise_indexes(v.indexes, names, lambda text: text if text is None else _trees.normal(text, key, None))
    return schema



def view_types(schema: Schema, reads: list[str]) -> dict[str, str]:
    types: dict[str, str] = {}
    for key in reads:
        table = schema.table(key)
        for c in table.columns if table else ():
            # A name in two tables with different types: keep the string type, the cast it explains.
            if c.name not in types or is_string_type(c.type):
                types[c.name] = c.type
    return types
