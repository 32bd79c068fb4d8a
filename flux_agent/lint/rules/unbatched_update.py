"""One UPDATE over a large table: every matched row stays locked until the
single transaction commits, replicas lag behind a huge WAL burst, and dead
tuples pile up. A batched loop (flux plan's backfill, a DO block committing
per batch) keeps each lock short."""

from pglast import ast
from pglast.enums import A_Expr_Kind

from ...pg.quote import relation_name
from ._flux_common import op_command, table_of
from ._rule import Rule, Verdict, flags, passes

RULE = Rule(
    id="unbatched-update",
    severity="warning",  # error when the table is known to be large
    message="an UPDATE of a whole table in one statement",
    hint="batch it by key range, committing per batch (a DO block, or flux plan's backfill operation)",
    squawk=None,
    examples=[
        flags("UPDATE orders SET status = 'paid' WHERE status = 'settled';", why="the table's size is unknown"),
        flags("UPDATE orders SET status = 'paid';"),
        passes("UPDATE orders SET status = 'paid' WHERE id = 42;"),
        passes("UPDATE orders SET status = 'paid' WHERE id IN (1, 2, 3);"),
        passes("UPDATE order_items SET quantity = 2 WHERE order_id = 1 AND product_id = 7;",
               schema_sql="CREATE TABLE order_items (order_id bigint, product_id bigint, quantity integer, "
                          "PRIMARY KEY (order_id, product_id));"),
        passes("CREATE TABLE staging (id bigint PRIMARY KEY, v text);\nUPDATE staging SET v = 'x';"),
    ],
)

LARGE = 10_000


def _pinned_keys(where, keys: set[str]) -> set[str]:
    """Columns the WHERE fixes to constants with `=` or `IN (...)`, across top-level ANDs."""
    out = set()
    if isinstance(where, ast.BoolExpr) and getattr(where.boolop, "name", "") == "AND_EXPR":
        for arg in where.args or ():
            out |= _pinned_keys(arg, keys)
        return out
    if isinstance(where, ast.A_Expr) and isinstance(where.lexpr, ast.ColumnRef):
        col = where.lexpr.fields[-1]
        name = col.sval if isinstance(col, ast.String) else None
        if name in keys:
            if where.kind == A_Expr_Kind.AEXPR_OP and where.name[-1].sval == "=" \
                    and isinstance(where.rexpr, (ast.A_Const, ast.ParamRef, ast.TypeCast)):
                out.add(name)
            elif where.kind == A_Expr_Kind.AEXPR_IN and isinstance(where.rexpr, (list, tuple)):
                out.add(name)
    return out


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.UpdateStmt):
        return None
    table = relation_name(n.relation)
    if ctx.table_is_new(table):
        return None
    rows = ctx.known_rows(table)
    if rows is not None and rows <= LARGE:
        return None
    t = table_of(ctx, stmt, table)
    keys = set(t.primary_key) if t is not None and t.primary_key else {"id"}
    if n.whereClause is not None and keys <= _pinned_keys(n.whereClause, keys):
        return None  # a few rows picked by primary key
    cols = [r.name for r in n.targetList or () if isinstance(r, ast.ResTarget) and r.name]
    example = op_command({"op": "backfill", "table": table, "column": cols[0] if cols else "column",
                          "value": "<expression>"})
    if rows is None:
        return Verdict(f"UPDATE {table} in one statement: the table's size is unknown, and on a large table every "
                       f"matched row stays locked until it commits; batch it ({example})", "warning")
    return Verdict(f"UPDATE {table} in one statement over about {rows:,} rows holds every matched row lock until it "
                   f"commits; batch it by key range ({example})", "error")
