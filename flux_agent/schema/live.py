"""Read a schema from a live PostgreSQL database's catalogs.

One read-only transaction with short statement and lock timeouts; user
schemas only (not pg_catalog, information_schema, pg_toast or temporary
schemas) and nothing an extension owns. Keys follow the replay reader:
unqualified in public, else `schema.name` (search_path is set to public so
format_type() and pg_get_expr() print names the same way).

PostgreSQL prints expressions from its analysed trees (`'x'::text`,
`= ANY (ARRAY[...])`, `'-1'::integer`), while the replay reader prints what the
migration author wrote. `normal_expr` maps both onto one text, so a schema
read here compares equal to the replayed one; `normalise_schema` applies it to
any Schema (e.g. one replayed from pg_dump output).

Not modelled, so not read: triggers, sequences, functions, comments, grants,
index sort order / opclass / INCLUDE columns, generated-column expressions.
Constraints and indexes a partition inherits from its parent are left out, as
the replay reader does not create them.
"""

from __future__ import annotations

import re
from typing import Optional

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType

from ..errors import FluxInputError
from ..models import Column, Constraint, EnumType, Index, Schema, Table, View
from ..sql import parse_expr, render
from .replay_state import make_key

__all__ = ["read_live", "normal_expr", "normal_view", "normalise_schema"]

STATEMENT_TIMEOUT = "15s"
LOCK_TIMEOUT = "3s"

# --------------------------------------------------------------------------
# Expression normal form
# --------------------------------------------------------------------------

_STRING_TYPES = ("text", "character varying", "character", "varchar", "bpchar")
_NUMERIC_TYPES = {"int2", "int4", "int8", "smallint", "integer", "bigint", "numeric", "decimal",
                  "float4", "float8", "real", "double precision"}
_NUMBER = re.compile(r"-?\d+(\.\d*)?([eE][-+]?\d+)?$")


def _type_base(tn: ast.TypeName) -> str:
    return tn.names[-1].sval


def _is_string_type(type_text: Optional[str]) -> bool:
    return bool(type_text) and type_text.split("(")[0].strip() in _STRING_TYPES and not type_text.endswith("]")


def _const_of(value: str) -> ast.A_Const:
    if "." in value or "e" in value.lower():
        return ast.A_Const(isnull=False, val=ast.Float(fval=value))
    number = int(value)
    if -(2**31) <= number < 2**31:
        return ast.A_Const(isnull=False, val=ast.Integer(ival=number))
    return ast.A_Const(isnull=False, val=ast.Float(fval=value))


def _strip_public(names) -> tuple:
    names = tuple(names)
    if len(names) == 2 and isinstance(names[0], ast.String) and names[0].sval == "public":
        return names[1:]
    return names


def _rule(node, types: dict[str, str]):
    """One bottom-up rewrite step; children are already in normal form."""
    if isinstance(node, ast.TypeCast):
        arg, base = node.arg, _type_base(node.typeName)
        node.typeName.names = _strip_public(node.typeName.names)
        if isinstance(arg, ast.A_Const) and not arg.isnull and not base.startswith("reg"):
            # A literal's cast is what PostgreSQL resolved from its context: the context gives it back.
            if base in _NUMERIC_TYPES and isinstance(arg.val, ast.String) and _NUMBER.match(arg.val.sval):
                return _const_of(arg.val.sval)
            return arg
        if isinstance(arg, ast.A_Const) and not arg.isnull and base == "regclass" \
                and isinstance(arg.val, ast.String) and arg.val.sval.startswith("public."):
            arg.val = ast.String(sval=arg.val.sval[len("public."):])
        if isinstance(arg, ast.ColumnRef) and base in ("text", "varchar", "bpchar") \
                and isinstance(arg.fields[-1], ast.String) and _is_string_type(types.get(arg.fields[-1].sval)):
            return arg  # the implicit varchar -> text coercion PostgreSQL shows
        if isinstance(arg, ast.A_ArrayExpr) and all(isinstance(e, ast.A_Const) for e in arg.elements or ()):
            return arg
        return node
    if isinstance(node, ast.A_Expr):
        op = node.name[-1].sval if node.name else ""
        if node.kind in (A_Expr_Kind.AEXPR_OP_ANY, A_Expr_Kind.AEXPR_OP_ALL) \
                and isinstance(node.rexpr, ast.A_ArrayExpr) and node.rexpr.elements:
            if (node.kind, op) in ((A_Expr_Kind.AEXPR_OP_ANY, "="), (A_Expr_Kind.AEXPR_OP_ALL, "<>")):
                return ast.A_Expr(kind=A_Expr_Kind.AEXPR_IN, name=(ast.String(sval=op),), lexpr=node.lexpr,
                                  rexpr=tuple(node.rexpr.elements))
        if node.kind == A_Expr_Kind.AEXPR_OP and op in ("~~", "!~~"):
            node.kind = A_Expr_Kind.AEXPR_LIKE
        elif node.kind == A_Expr_Kind.AEXPR_OP and op in ("~~*", "!~~*"):
            node.kind = A_Expr_Kind.AEXPR_ILIKE
        elif node.kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_NOT_BETWEEN):
            # PostgreSQL stores BETWEEN as the two comparisons it stands for.
            low, high = node.rexpr
            inside = node.kind == A_Expr_Kind.AEXPR_BETWEEN
            cmp = [(">=", low), ("<=", high)] if inside else [("<", low), (">", high)]
            args = tuple(ast.A_Expr(kind=A_Expr_Kind.AEXPR_OP, name=(ast.String(sval=o),), lexpr=node.lexpr,
                                    rexpr=v) for o, v in cmp)
            return _rule(ast.BoolExpr(boolop=BoolExprType.AND_EXPR if inside else BoolExprType.OR_EXPR,
                                      args=args), types)
        return node
    if isinstance(node, ast.BoolExpr) and node.boolop != BoolExprType.NOT_EXPR:
        flat = []
        for a in node.args:
            flat.extend(a.args if isinstance(a, ast.BoolExpr) and a.boolop == node.boolop else (a,))
        node.args = tuple(flat)
        return node
    if isinstance(node, ast.RangeVar) and node.schemaname == "public":
        node.schemaname = None
    elif isinstance(node, ast.FuncCall):
        node.funcname = _strip_public(node.funcname)
    return node


def _walk(node, types: dict[str, str]):
    if isinstance(node, (tuple, list)):
        return tuple(_walk(n, types) for n in node)
    if not isinstance(node, ast.Node):
        return node
    for attr in node:
        value = getattr(node, attr)
        if isinstance(value, (ast.Node, tuple, list)):
            setattr(node, attr, _walk(value, types))
    return _rule(node, types)


def _nextval(node) -> Optional[str]:
    """`nextval('seq'::regclass)` keeps PostgreSQL's spelling, as the replay reader writes it."""
    if isinstance(node, ast.FuncCall) and [n.sval for n in node.funcname] in (["nextval"], ["pg_catalog", "nextval"]) \
            and node.args and len(node.args) == 1:
        arg = node.args[0]
        if isinstance(arg, ast.TypeCast) and _type_base(arg.typeName) == "regclass":
            arg = arg.arg
        if isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String):
            name = arg.val.sval.removeprefix("public.")
            return "nextval('" + name.replace("'", "''") + "'::regclass)"
    return None


def normal_expr(text: Optional[str], types: Optional[dict[str, str]] = None) -> Optional[str]:
    """`text` in the normal form both readers share; `types` maps column names to their types.

    Unparseable text comes back unchanged. A NULL constant is no expression (None),
    as pg_attrdef never stores one.
    """
    if text is None:
        return None
    try:
        node = parse_expr(text)
    except FluxInputError:
        return text
    node = _walk(node, types or {})
    bare = node.arg if isinstance(node, ast.TypeCast) else node
    if isinstance(bare, ast.A_Const) and bare.isnull:
        return None
    return _nextval(node) or render(node)


def normal_view(definition: Optional[str], types: Optional[dict[str, str]] = None) -> Optional[str]:
    """A view's query in the normal form: public. dropped, literal casts dropped, no trailing `;`."""
    if definition is None:
        return None
    try:
        stmts = pglast.parse_sql(definition)
    except pglast.parser.ParseError:
        return definition.strip().rstrip(";").strip()
    if len(stmts) != 1:
        return definition
    return render(_walk(stmts[0].stmt, types or {}))


def _types(table: Table) -> dict[str, str]:
    return {c.name: c.type for c in table.columns}


def normalise_schema(schema: Schema) -> Schema:
    """A copy of `schema` with every default, check, index expression and view query in normal form."""
    out = schema.model_copy(deep=True)
    for t in out.tables:
        types = _types(t)
        plain = set(types)
        for c in t.columns:
            c.default = normal_expr(c.default, types)
        for i in t.indexes:
            i.columns = [c if c in plain else normal_expr(c, types) for c in i.columns]
            i.where = normal_expr(i.where, types)
        for k in t.constraints:
            k.expression = normal_expr(k.expression, types)
            if k.kind == "exclude":
                k.columns = [c if c in plain else normal_expr(c, types) for c in k.columns]
    for v in out.views:
        v.definition = normal_view(v.definition, _view_types(out, v.depends_on))
    return out


def _view_types(schema: Schema, reads: list[str]) -> dict[str, str]:
    types: dict[str, str] = {}
    for key in reads:
        table = schema.table(key)
        for c in table.columns if table else ():
            # A name in two tables with different types: keep the string type, the cast it explains.
            if c.name not in types or _is_string_type(c.type):
                types[c.name] = c.type
    return types


# --------------------------------------------------------------------------
# Catalog queries
# --------------------------------------------------------------------------


def _not_extension(classid: str, oid: str) -> str:
    return (f"NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{classid}'::regclass "
            f"AND e.objid = {oid} AND e.deptype = 'e')")


_USER_NS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
    "AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%' "
    f"AND {_not_extension('pg_namespace', 'n.oid')}"
)

# Rows: reltuples scaled to the table's current size, as the planner does; -1 (never analysed) is unknown.
_ROWS = ("CASE WHEN r.reltuples < 0 THEN NULL WHEN r.relpages > 0 THEN r.reltuples / r.relpages * "
         "(pg_relation_size(r.oid) / current_setting('block_size')::int) ELSE r.reltuples END")

_TABLES = f"""
SELECT c.oid, n.nspname, c.relname,
       CASE WHEN c.relkind = 'p' THEN
            (SELECT CASE WHEN count(*) > 0 AND bool_and(r.reltuples >= 0) THEN sum({_ROWS}) END
               FROM pg_partition_tree(c.oid) t JOIN pg_class r ON r.oid = t.relid WHERE t.isleaf)
       ELSE (SELECT {_ROWS} FROM pg_class r WHERE r.oid = c.oid) END,
       CASE WHEN c.relkind = 'p' THEN
            (SELECT sum(pg_total_relation_size(t.relid)) FROM pg_partition_tree(c.oid) t)
       ELSE pg_total_relation_size(c.oid) END
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND {_USER_NS} AND {_not_extension('pg_class', 'c.oid')}
 ORDER BY c.oid"""

_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.attidentity <> '' OR a.attgenerated <> '', pg_get_expr(d.adbin, d.adrelid)
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum"""

_INDEXES = """
SELECT i.indrelid, ic.relname, i.indisunique, i.indisprimary, am.amname, pg_get_expr(i.indpred, i.indrelid),
       ARRAY(SELECT CASE WHEN i.indkey[k - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k, true)
                         ELSE (SELECT a.attname::text FROM pg_attribute a
                                WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1]) END
               FROM generate_series(1, i.indnkeyatts) k ORDER BY k)
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
 WHERE i.indrelid = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
 ORDER BY i.indexrelid"""

# Check constraints list their columns in table order (as the replay reader does); keys in key order.
_CONSTRAINTS = """
SELECT con.conrelid, con.conname, con.contype, con.convalidated, con.confdeltype,
       pg_get_expr(con.conbin, con.conrelid),
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, pos)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
              ORDER BY CASE WHEN con.contype = 'c' THEN k.num ELSE k.pos END),
       rn.nspname, rc.relname,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, pos)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.pos)
  FROM pg_constraint con
  LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
 WHERE con.conrelid = ANY(%s) AND con.contype IN ('p', 'u', 'c', 'f', 'x')
   AND con.conparentid = 0 AND con.conislocal
 ORDER BY con.oid"""

_ENUMS = f"""
SELECT n.nspname, t.typname,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype = 'e' AND {_USER_NS} AND {_not_extension('pg_type', 't.oid')}
 ORDER BY t.oid"""

_VIEWS = f"""
SELECT c.oid, n.nspname, c.relname, pg_get_viewdef(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm') AND {_USER_NS} AND {_not_extension('pg_class', 'c.oid')}
 ORDER BY c.oid"""

_VIEW_READS = """
SELECT DISTINCT r.ev_class, dn.nspname, dc.relname
  FROM pg_rewrite r
  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
  JOIN pg_class dc ON dc.oid = d.refobjid JOIN pg_namespace dn ON dn.oid = dc.relnamespace
 WHERE r.ev_class = ANY(%s) AND d.refobjid <> r.ev_class AND dc.relkind IN ('r', 'p', 'v', 'm', 'f')"""

_ON_DELETE = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}  # 'a' NO ACTION: None
_KINDS = {"p": "primary_key", "u": "unique", "c": "check", "f": "foreign_key", "x": "exclude"}


def read_live(url: str) -> Schema:
    """The schema of the database at `url` (a libpq URL or conninfo string)."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=10, autocommit=False) as conn:
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
            conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            conn.execute("SET LOCAL search_path = public")
            schema = _read(conn)
            conn.rollback()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FluxInputError(f"cannot read the schema from the database: {first}") from None
    return schema


def _read(conn) -> Schema:
    tables: dict[int, Table] = {}
    for oid, ns, name, rows, size in conn.execute(_TABLES):
        tables[oid] = Table(name=make_key(ns, name), row_estimate=None if rows is None else int(round(rows)),
                            size_bytes=None if size is None else int(size))
    oids = list(tables)
    for rel, name, typ, notnull, no_default, default in conn.execute(_COLUMNS, (oids,)):
        tables[rel].columns.append(Column(name=name, type=typ, nullable=not notnull,
                                          default=None if no_default else default))
    types = {oid: _types(t) for oid, t in tables.items()}
    for oid, t in tables.items():
        for c in t.columns:
            c.default = normal_expr(c.default, types[oid])
    for rel, name, unique, primary, method, where, cols in conn.execute(_INDEXES, (oids,)):
        plain = types[rel]
        tables[rel].indexes.append(Index(
            name=name, unique=unique, primary=primary, method=method,
            columns=[c if c in plain else normal_expr(c, plain) for c in cols],
            where=normal_expr(where, plain)))
    for rel, name, kind, valid, deltype, expr, cols, ref_ns, ref_name, ref_cols in conn.execute(_CONSTRAINTS, (oids,)):
        table = tables[rel]
        con = Constraint(name=name, kind=_KINDS[kind], columns=list(cols), validated=valid)
        if kind == "c":
            con.expression = normal_expr(expr, types[rel])
        elif kind == "f":
            con.ref_table, con.ref_columns = make_key(ref_ns, ref_name), list(ref_cols)
            con.on_delete = _ON_DELETE.get(deltype)
        elif kind == "x":
            index = next((i for i in table.indexes if i.name == name), None)
            con.columns = list(index.columns) if index else con.columns
        elif kind == "p":
            table.primary_key = list(cols)
        table.constraints.append(con)
    enums = [EnumType(name=make_key(ns, name), values=list(values)) for ns, name, values in conn.execute(_ENUMS)]
    views: dict[int, View] = {}
    for oid, ns, name, definition in conn.execute(_VIEWS):
        views[oid] = View(name=make_key(ns, name), definition=definition)
    for view_oid, ns, name in conn.execute(_VIEW_READS, (list(views),)):
        views[view_oid].depends_on.append(make_key(ns, name))
    schema = Schema(tables=list(tables.values()), enums=enums, views=list(views.values()))
    for v in schema.views:
        v.depends_on = sorted(set(v.depends_on))
        v.definition = normal_view(v.definition, _view_types(schema, v.depends_on))
    return schema
