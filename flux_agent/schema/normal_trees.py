"""The tree rewrites behind the schema model's normal form (schema/normal.py says what
the form is): each expression parsed by pglast, rewritten, printed back. They read
pglast's trees throughout, so normal.py loads this module only where pglast is installed."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Optional

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, CoercionForm
from pglast.stream import RawStream

from ..errors import FluxInputError
from ..pg.parse import parse_expr, parse_sql, render
from ._normal_types import (
    AS_TEXT,
    MATCH,
    NUMERIC,
    TEXTS,
    Ctx,
    Type,
    common_ctx,
    element_type,
    func_name,
    is_literal,
    operand_ctx,
    same_without_cast,
    type_from_text,
    type_of_name,
)

_NUMBER = re.compile(r"-?\d+(\.\d*)?([eE][-+]?\d+)?$")
_DECIMAL = re.compile(r"-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)$")
_TRUE = {"t", "tr", "tru", "true", "y", "ye", "yes", "on", "1"}
_FALSE = {"f", "fa", "fal", "fals", "false", "n", "no", "of", "off", "0"}

# Functions whose argument may be of any type: an untyped literal there is an error
# or another value (`to_json('x')`), so the literal keeps its cast.
_ANY_TYPE_ARGS = {"to_json", "to_jsonb", "array_fill", "pg_typeof", "array_agg", "json_agg", "jsonb_agg",
                  "min", "max", "any_value", "row_to_json", "json_agg_strict", "jsonb_agg_strict"}
_PRINTER = RawStream()  # asked which pg_catalog functions it prints in their SQL syntax
_TEXT_KEY_OPS = {"->": "text", "->>": "text", "?": "text", "#>": "text[]", "#>>": "text[]",
                 "?|": "text[]", "?&": "text[]", "#-": "text[]"}


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


def _bare_literal(const: ast.A_Const, ctx: Optional[Ctx]):
    """An untyped string literal where its context reads a number or boolean: that literal;
    a number assigned to a column that fixes its scale: in its shortest spelling."""
    if ctx is None or ctx.exact:
        return const
    if isinstance(const.val, ast.String):
        text = const.val.sval.strip()
        if ctx.type.base in NUMERIC and _NUMBER.match(text):
            const = _const_of(text)
        elif ctx.type.base == "boolean" and text.lower() in _TRUE | _FALSE:
            return ast.A_Const(isnull=False, val=ast.Boolean(boolval=text.lower() in _TRUE))
    if isinstance(const.val, ast.Float) and ctx.assign and _fixed_scale(ctx.type):
        # 0.0 and 0 store the same in numeric(10,2), double precision or integer
        # (a Rails schema.rb writes a decimal's default 0 as "0.0").
        return _const_of(_shortest(const.val.fval))
    return const


def _fixed_scale(t: Type) -> bool:
    return t.base in NUMERIC and (t.base != "numeric" or "," in t.full)


def _shortest(text: str) -> str:
    try:
        d = Decimal(text)
    except InvalidOperation:
        return text
    if not d.is_finite() or (d.is_zero() and d.is_signed()):
        return text  # -0.0 is a float of its own
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def _cast(node: ast.TypeCast, ctx: Optional[Ctx], types: dict[str, str]):
    node.typeName.names = _strip_public(node.typeName.names)
    t = type_of_name(node.typeName)
    arg = node.arg
    if isinstance(arg, ast.A_Const) and not arg.isnull:
        if t.base.startswith("reg"):
            if t.base == "regclass" and isinstance(arg.val, ast.String) and arg.val.sval.startswith("public."):
                arg.val = ast.String(sval=arg.val.sval[len("public."):])
            return node
        text = arg.val.sval if isinstance(arg.val, ast.String) else None
        if same_without_cast(ctx, t):
            if text is not None and t.base in NUMERIC and _NUMBER.match(text):
                return _bare_literal(_const_of(text), ctx)
            if text is not None and t.base == "boolean":
                return _bare_literal(arg, Ctx(t))
            return _bare_literal(arg, ctx) if isinstance(arg.val, ast.Float) else arg
        if text is not None:
            # The cast spells the literal's own type.
            if t.base == "integer" and re.fullmatch(r"-?\d+", text) and -(2**31) <= int(text) < 2**31:
                return _const_of(text)
            if t.base == "numeric" and _DECIMAL.match(text):
                return _const_of(text)
            if t.base == "boolean" and text.lower() in _TRUE | _FALSE:
                return _bare_literal(arg, Ctx(t))
        return node
    if isinstance(arg, ast.TypeCast) and is_literal(arg) and same_without_cast(ctx, t) \
            and same_without_cast(ctx, type_of_name(arg.typeName)):
        return _cast(arg, ctx, types)  # ('x'::varchar)::text where text is meant
    if isinstance(arg, ast.ColumnRef) and t.base == "text" and isinstance(arg.fields[-1], ast.String):
        col = type_from_text(types.get(arg.fields[-1].sval))
        if col is not None and col.base in TEXTS:
            return arg  # the implicit varchar -> text coercion PostgreSQL shows
    if isinstance(arg, ast.A_ArrayExpr) and arg.elements and element_type(t) is not None:
        # ARRAY[a, b]::T[] is ARRAY[a::T, b::T], as PostgreSQL parses it.
        arg.elements = tuple(ast.TypeCast(arg=e, typeName=_element_name(node.typeName)) for e in arg.elements)
        return _norm(arg, ctx, types)
    node.arg = _norm(arg, None, types)
    return node


def _element_name(tn: ast.TypeName) -> ast.TypeName:
    return ast.TypeName(names=tn.names, typmods=tn.typmods, arrayBounds=None, setof=False, pct_type=False,
                        typemod=-1)


def _array(node: ast.A_ArrayExpr, ctx: Optional[Ctx], types: dict[str, str]) -> ast.A_ArrayExpr:
    elements = tuple(node.elements or ())
    inner = common_ctx(elements, types)
    element = element_type(ctx.type) if ctx is not None else None
    if ctx is not None and ctx.assign and element is not None and all(is_literal(e) for e in elements):
        # Assigned to a text or number array column: text[] or integer[] literals convert the same.
        if element.base in TEXTS or (element.base in NUMERIC and all(
                not isinstance(e, ast.TypeCast) or _is_number(e.arg) for e in elements)):
            inner = Ctx(element, assign=True)
    node.elements = tuple(_norm(e, inner, types) for e in elements)
    return node


def _is_number(node) -> bool:
    if not isinstance(node, ast.A_Const) or node.isnull:
        return False
    return isinstance(node.val, (ast.Integer, ast.Float)) or (
        isinstance(node.val, ast.String) and bool(_NUMBER.match(node.val.sval)))


def _any_to_in(node: ast.A_Expr):
    """`x = ANY (ARRAY[a, b])` as `x IN (a, b)`; `x <> ALL (...)` as `x NOT IN (...)`."""
    op = node.name[-1].sval if node.name else ""
    if (node.kind, op) not in ((A_Expr_Kind.AEXPR_OP_ANY, "="), (A_Expr_Kind.AEXPR_OP_ALL, "<>")):
        return node
    array, cast = node.rexpr, None
    if isinstance(array, ast.TypeCast) and isinstance(array.arg, ast.A_ArrayExpr) \
            and element_type(type_of_name(array.typeName)) is not None:
        array, cast = array.arg, _element_name(array.typeName)
    if not isinstance(array, ast.A_ArrayExpr) or not array.elements:
        return node
    items = tuple(ast.TypeCast(arg=e, typeName=cast) if cast else e for e in array.elements)
    return ast.A_Expr(kind=A_Expr_Kind.AEXPR_IN, name=(ast.String(sval=op),), lexpr=node.lexpr, rexpr=items)


def _between(node: ast.A_Expr):
    """BETWEEN as the two comparisons PostgreSQL stores."""
    low, high = node.rexpr
    inside = node.kind == A_Expr_Kind.AEXPR_BETWEEN
    cmp = [(">=", low), ("<=", high)] if inside else [("<", low), (">", high)]
    args = tuple(ast.A_Expr(kind=A_Expr_Kind.AEXPR_OP, name=(ast.String(sval=o),), lexpr=node.lexpr, rexpr=v)
                 for o, v in cmp)
    return ast.BoolExpr(boolop=BoolExprType.AND_EXPR if inside else BoolExprType.OR_EXPR, args=args)


def _a_expr(node: ast.A_Expr, types: dict[str, str]):
    if node.kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_NOT_BETWEEN):
        return _norm(_between(node), None, types)
    if node.kind in (A_Expr_Kind.AEXPR_OP_ANY, A_Expr_Kind.AEXPR_OP_ALL):
        converted = _any_to_in(node)
        if converted is not node:
            return _norm(converted, None, types)
    op = node.name[-1].sval if node.name else ""
    if node.kind == A_Expr_Kind.AEXPR_OP and op in ("~~", "!~~"):
        node.kind = A_Expr_Kind.AEXPR_LIKE
    elif node.kind == A_Expr_Kind.AEXPR_OP and op in ("~~*", "!~~*"):
        node.kind = A_Expr_Kind.AEXPR_ILIKE
    lexpr, rexpr = node.lexpr, node.rexpr
    if node.kind == A_Expr_Kind.AEXPR_IN:
        ctx = operand_ctx(lexpr, types, match=True)
        node.rexpr = tuple(_norm(e, ctx, types) for e in rexpr)
        node.lexpr = _norm(lexpr, None, types)
        return node
    if node.kind == A_Expr_Kind.AEXPR_OP and op in _TEXT_KEY_OPS and lexpr is not None:
        node.lexpr = _norm(lexpr, None, types)
        node.rexpr = _norm(rexpr, Ctx(type_from_text(_TEXT_KEY_OPS[op]), exact=True), types)
        return node
    if node.kind in (A_Expr_Kind.AEXPR_OP_ANY, A_Expr_Kind.AEXPR_OP_ALL) or lexpr is None \
            or isinstance(rexpr, (tuple, list)):
        node.lexpr = _norm(lexpr, None, types)
        node.rexpr = _norm(rexpr, None, types)
        return node
    match = node.kind != A_Expr_Kind.AEXPR_OP or op in MATCH
    left_ctx, right_ctx = operand_ctx(rexpr, types, match), operand_ctx(lexpr, types, match)
    node.lexpr = _norm(lexpr, left_ctx, types)
    node.rexpr = _norm(rexpr, right_ctx, types)
    return node


def _case(node: ast.CaseExpr, types: dict[str, str]):
    when_ctx = operand_ctx(node.arg, types, match=True) if node.arg is not None else None
    result_ctx = common_ctx([w.result for w in node.args] + [node.defresult], types)
    for w in node.args:
        w.expr = _norm(w.expr, when_ctx, types)
        w.result = _norm(w.result, result_ctx, types)
    node.arg = _norm(node.arg, None, types)
    node.defresult = _norm(node.defresult, result_ctx, types)
    return node


def _select(node: ast.SelectStmt, types: dict[str, str], text_targets: bool) -> ast.SelectStmt:
    """A query; an untyped literal in the select list of a query that is no UNION branch is text."""
    branch = node.larg is not None
    for attr in node:
        value = getattr(node, attr)
        if attr in ("larg", "rarg") and value is not None:
            setattr(node, attr, _select(value, types, text_targets=False))
        elif attr == "targetList" and value:
            node.targetList = tuple(
                _target(t, types, text_targets and not branch) for t in value)
        elif isinstance(value, (ast.Node, tuple, list)):
            setattr(node, attr, _norm(value, None, types))
    return node


def _target(node, types: dict[str, str], text: bool):
    if isinstance(node, ast.ResTarget) and node.val is not None:
        node.val = _norm(node.val, AS_TEXT if text else None, types)
        return node
    return _norm(node, None, types)


def _norm(node, ctx: Optional[Ctx], types: dict[str, str]):
    """`node` in normal form; `ctx` is what an untyped literal in its place would be read as."""
    if isinstance(node, (tuple, list)):
        return tuple(_norm(n, None, types) for n in node)
    if not isinstance(node, ast.Node):
        return node
    if isinstance(node, ast.TypeCast):
        return _cast(node, ctx, types)
    if isinstance(node, ast.A_Const):
        return _bare_literal(node, ctx) if not node.isnull else node
    if isinstance(node, ast.A_Expr):
        return _a_expr(node, types)
    if isinstance(node, ast.A_ArrayExpr):
        return _array(node, ctx, types)
    if isinstance(node, ast.CaseExpr):
        return _case(node, types)
    if isinstance(node, (ast.CoalesceExpr, ast.MinMaxExpr)):
        inner = common_ctx(node.args, types)
        node.args = tuple(_norm(a, inner, types) for a in node.args)
        return node
    if isinstance(node, ast.FuncCall):
        node.funcname = _strip_public(node.funcname)
        names = [n.sval for n in node.funcname]
        if len(names) == 2 and names[0] == "pg_catalog" \
                and _PRINTER.get_printer_for_function(".".join(names), node) is None:
            # SUBSTRING(a FROM b) read back as pg_catalog.substring(a, b): PostgreSQL prints "substring"(a, b).
            node.funcname = node.funcname[1:]
            node.funcformat = CoercionForm.COERCE_EXPLICIT_CALL
        inner = None if func_name(node) in _ANY_TYPE_ARGS else AS_TEXT
        node.args = tuple(_norm(a, inner, types) for a in node.args) if node.args else node.args
        for attr in ("agg_order", "agg_filter", "over"):
            setattr(node, attr, _norm(getattr(node, attr), None, types))
        return node
    if isinstance(node, ast.SelectStmt):
        return _select(node, types, text_targets=True)
    for attr in node:
        value = getattr(node, attr)
        if isinstance(value, (ast.Node, tuple, list)):
            setattr(node, attr, _norm(value, None, types))
    if isinstance(node, ast.BoolExpr) and node.boolop != BoolExprType.NOT_EXPR:
        flat = []
        for a in node.args:
            flat.extend(a.args if isinstance(a, ast.BoolExpr) and a.boolop == node.boolop else (a,))
        node.args = tuple(flat)
    elif isinstance(node, ast.RangeVar) and node.schemaname == "public":
        node.schemaname = None
    elif isinstance(node, ast.TypeName):
        node.names = _strip_public(node.names)
    return node


def _nextval(node) -> Optional[str]:
    """`nextval('seq'::regclass)` keeps PostgreSQL's spelling, as the replay reader writes it."""
    if isinstance(node, ast.FuncCall) and [n.sval for n in node.funcname] in (["nextval"], ["pg_catalog", "nextval"]) \
            and node.args and len(node.args) == 1:
        arg = node.args[0]
        if isinstance(arg, ast.TypeCast) and arg.typeName.names[-1].sval == "regclass":
            arg = arg.arg
        if isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String):
            name = arg.val.sval.removeprefix("public.").removeprefix('"public".')
            return "nextval('" + name.replace("'", "''") + "'::regclass)"
    return None


@lru_cache(maxsize=16384)
def normal(text: str, types: tuple, target: Optional[str]) -> Optional[str]:
    """normal.normal_expr's work; `types` as sorted (name, type) pairs, hashable for the cache."""
    try:
        node = parse_expr(text)
    except FluxInputError:
        return text
    bare = node
    while isinstance(bare, ast.TypeCast):
        bare = bare.arg
    if isinstance(bare, ast.A_Const) and bare.isnull:
        return None
    if target == "jsonb" and isinstance(bare, ast.A_Const) and isinstance(bare.val, ast.String):
        bare.val.sval = _jsonb_text(bare.val.sval)  # PostgreSQL stores the jsonb value, not the text
    target_type = type_from_text(target)
    ctx = Ctx(target_type, assign=True) if target_type is not None else None
    try:
        node = _norm(node, ctx, dict(types))
        return _nextval(node) or render(node)
    except Exception:  # a tree shape the rewrite does not know: the text as it came
        return text


class _Number(str):
    """A JSON number kept as written (jsonb keeps a number's digits)."""


def _jsonb_text(text: str) -> str:
    """A JSON document as jsonb prints it: object keys shortest first, then in byte order,
    the last of duplicate keys kept, `, ` and `: ` between items."""
    try:
        value = json.loads(text, parse_float=_Number, parse_int=_Number)
    except ValueError:
        return text

    def out(v) -> str:
        if isinstance(v, dict):
            keys = sorted(v, key=lambda k: (len(k.encode()), k.encode()))
            return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {out(v[k])}" for k in keys) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(out(x) for x in v) + "]"
        if isinstance(v, _Number):
            return str.__str__(v)
        return json.dumps(v, ensure_ascii=False)

    return out(value)


def view(definition: str, types: dict[str, str]) -> str:
    """normal.normal_view's work (kept: a folder's replay normalises the same views after every file)."""
    return _view(definition, tuple(sorted(types.items())))


@lru_cache(maxsize=4096)
def _view(definition: str, type_items: tuple) -> str:
    types = dict(type_items)
    try:
        stmts = parse_sql(definition)
    except pglast.parser.ParseError:
        return definition.strip().rstrip(";").strip()
    if len(stmts) != 1:
        return definition
    try:
        return render(_norm(stmts[0].stmt, None, types))
    except Exception:  # a tree shape the rewrite does not know: the text as it came
        return definition.strip().rstrip(";").strip()
