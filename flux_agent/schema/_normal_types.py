"""What the normal-form rewrite (schema/normal_trees.py) knows of types: the type of an
expression where it is plain to see, and what an untyped literal in a place is read as."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from pglast import ast
from pglast.enums import A_Expr_Kind, SQLValueFunctionOp

from ..pg.parse import parse_sql, render

__all__ = ["AS_TEXT", "MATCH", "NUMERIC", "TEXTS", "Ctx", "Type", "common_ctx", "element_type", "func_name",
           "is_literal", "operand_ctx", "same_without_cast", "type_from_text", "type_of", "type_of_name"]

# Types an untyped string literal may stand for without changing what it means: an
# unknown literal resolves to text, which PostgreSQL assigns and compares as varchar.
TEXTS = {"text", "varchar"}
NUMERIC = {"smallint", "integer", "bigint", "numeric", "real", "double precision"}
_TEXT_FUNCS = {"lower", "upper", "btrim", "ltrim", "rtrim", "trim", "concat", "concat_ws", "md5", "replace",
               "substr", "substring", "left", "right", "lpad", "rpad", "to_char", "initcap", "format",
               "jsonb_typeof", "json_typeof", "translate", "reverse", "repeat", "split_part", "regexp_replace",
               "quote_ident", "quote_literal", "encode", "unaccent", "text"}
_FUNC_TYPES = {"now": "timestamp with time zone", "transaction_timestamp": "timestamp with time zone",
               "statement_timestamp": "timestamp with time zone", "clock_timestamp": "timestamp with time zone",
               "length": "integer", "char_length": "integer", "octet_length": "integer", "count": "bigint",
               "gen_random_uuid": "uuid", "uuid_generate_v4": "uuid", "jsonb_build_object": "jsonb",
               "to_jsonb": "jsonb", "json_build_object": "json", "to_json": "json", "to_tsvector": "tsvector"}
_SVF_TYPES = {SQLValueFunctionOp.SVFOP_CURRENT_DATE: "date",
              SQLValueFunctionOp.SVFOP_CURRENT_TIMESTAMP: "timestamp with time zone",
              SQLValueFunctionOp.SVFOP_CURRENT_TIMESTAMP_N: "timestamp with time zone",
              SQLValueFunctionOp.SVFOP_LOCALTIMESTAMP: "timestamp without time zone",
              SQLValueFunctionOp.SVFOP_LOCALTIMESTAMP_N: "timestamp without time zone"}
_COMPARE = {"=", "<>", "!=", "<", ">", "<=", ">=", "~~", "!~~", "~~*", "!~~*", "~", "!~", "~*", "!~*"}
# Comparisons whose result does not hang on a collation or a type's ordering.
MATCH = _COMPARE - {"<", ">", "<=", ">="}


@dataclass(frozen=True)
class Type:
    base: str  # without type modifiers or `public.`: `varchar`, `numeric`, `text[]`, `billing.state`
    full: str  # with them: `varchar(10)`


@lru_cache(maxsize=4096)
def type_from_text(text: Optional[str]) -> Optional[Type]:
    """A type as printed by pglast, from a model type text (`character varying(10)`)."""
    if not text:
        return None
    try:
        stmts = parse_sql(f"SELECT NULL::{text}")
        return type_of_name(stmts[0].stmt.targetList[0].val.typeName)
    except Exception:  # not a type pglast reads
        return None


def type_of_name(tn: ast.TypeName) -> Type:
    names = tuple(n.sval for n in tn.names)
    if len(names) == 2 and names[0] == "public":
        names = names[1:]
    bare = ast.TypeName(names=tuple(ast.String(sval=n) for n in names), typmods=None,
                        arrayBounds=tn.arrayBounds, setof=False, pct_type=False, typemod=-1)
    with_mods = ast.TypeName(names=bare.names, typmods=tn.typmods, arrayBounds=tn.arrayBounds,
                             setof=False, pct_type=False, typemod=-1)
    return Type(render(bare), render(with_mods))


def element_type(t: Type) -> Optional[Type]:
    if not t.base.endswith("[]"):
        return None
    base = t.base[:-2]
    return Type(base, base)




@dataclass(frozen=True)
class Ctx:
    """What a literal in this place is read as when it carries no cast.

    exact: only a cast to exactly this type is implied (an untyped literal resolves
    to text there, not to a type of the same family); assign: the value is assigned
    to a column of this type (a default)."""
    type: Type
    exact: bool = False
    assign: bool = False


AS_TEXT = Ctx(Type("text", "text"), exact=True)


def same_without_cast(ctx: Optional[Ctx], t: Type) -> bool:
    """A literal cast to `t` means the same without the cast in context `ctx`."""
    if ctx is None:
        return False
    if t.full != t.base and t.full != ctx.type.full:
        return False  # 'abc'::varchar(2) truncates
    if ctx.type.base == t.base:
        return True
    if ctx.exact:
        return False
    texts = {ctx.type.base, t.base}
    return texts <= TEXTS or texts <= {x + "[]" for x in TEXTS}



def is_literal(node) -> bool:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return isinstance(node, ast.A_Const) and not node.isnull


def func_name(node: ast.FuncCall) -> str:
    return node.funcname[-1].sval.lower()


def type_of(node, types: dict[str, str]) -> Optional[Type]:
    """The type of an expression when it is plain to see; None when not."""
    if isinstance(node, ast.ColumnRef):
        last = node.fields[-1]
        return type_from_text(types.get(last.sval)) if isinstance(last, ast.String) else None
    if isinstance(node, ast.TypeCast):
        return type_of_name(node.typeName)
    if isinstance(node, ast.A_Const) and not node.isnull:
        kind = {ast.Integer: "integer", ast.Float: "numeric", ast.Boolean: "boolean"}.get(type(node.val))
        return type_from_text(kind)
    if isinstance(node, ast.FuncCall):
        name = func_name(node)
        if name in _TEXT_FUNCS:
            return type_from_text("text")
        if name == "date_trunc" and node.args and len(node.args) == 2:
            return type_of(node.args[1], types)
        return type_from_text(_FUNC_TYPES.get(name))
    if isinstance(node, ast.SQLValueFunction):
        return type_from_text(_SVF_TYPES.get(node.op))
    if isinstance(node, (ast.BoolExpr, ast.NullTest, ast.BooleanTest)):
        return type_from_text("boolean")
    if isinstance(node, ast.A_Expr):
        op = node.name[-1].sval if node.name else ""
        if node.kind == A_Expr_Kind.AEXPR_NULLIF:
            return type_of(node.lexpr, types)
        if node.kind != A_Expr_Kind.AEXPR_OP or op in _COMPARE:
            return type_from_text("boolean")
        if op in ("->>", "#>>"):
            return type_from_text("text")
        left = type_of(node.lexpr, types) if node.lexpr is not None else None
        right = type_of(node.rexpr, types)
        if op in ("->", "#>", "#-") or (op == "-" and left and left.base in ("jsonb", "json")):
            return left
        if op == "||" and type_from_text("text") in (left, right):
            return type_from_text("text")
        if left and right and left.base == right.base:
            return left
        for mine, other, node_other in ((left, right, node.rexpr), (right, left, node.lexpr)):
            # A number against a numeric column: the column's type wins.
            if mine and mine.base in NUMERIC and is_literal(node_other) and other and other.base in NUMERIC:
                return mine
    if isinstance(node, (ast.CoalesceExpr, ast.MinMaxExpr)):
        return next((t for t in (type_of(a, types) for a in node.args if not is_literal(a)) if t), None)
    return None


def operand_ctx(other, types: dict[str, str], match: bool) -> Optional[Ctx]:
    """The context an operator gives a literal from its other operand."""
    if other is None or is_literal(other):
        return None
    t = type_of(other, types)
    if t is not None:
        return Ctx(t)
    # An equality or pattern match PostgreSQL printed with `'x'::text` on one side
    # matches text: an untyped literal there resolves to text, or to a type that
    # matches the same (name); `<` could sort by another collation, so it keeps the cast.
    return AS_TEXT if match else None


def common_ctx(nodes, types: dict[str, str]) -> Optional[Ctx]:
    """COALESCE, CASE and ARRAY resolve untyped literals to their other members' type,
    or to text when all are literals."""
    nodes = [n for n in nodes if n is not None]
    for n in nodes:
        if not is_literal(n):
            t = type_of(n, types)
            return Ctx(t) if t else None
    if nodes and all(isinstance(n, ast.TypeCast) and type_of_name(n.typeName).full == "text" for n in nodes):
        return AS_TEXT
    return None
