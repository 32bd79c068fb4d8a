"""DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the index's table."""

from pglast import ast
from pglast.enums import ObjectType

from ...pg.quote import relation_name
from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="require-concurrent-index-deletion",
    severity="error",
    message="DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table: reads and writes wait for it",
    hint="use DROP INDEX CONCURRENTLY IF EXISTS, alone in a migration that runs outside a transaction",
    squawk="default",
    nodes=(ast.DropStmt,),
    examples=[
        flags("DROP INDEX IF EXISTS orders_status_idx;"),
        passes("DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;", transactional=False),
        passes("CREATE TABLE t (id bigint);\nCREATE INDEX t_id_idx ON t (id);\n"
               "DROP INDEX t_id_idx;", squawk_agrees=False,
               why="an index on a table created in this migration; squawk does not follow it"),
    ],
)


def _created_on_new_table(name, stmt, ctx):
    """Was index `name` created earlier in this migration, on a table also created here?"""
    for s in ctx.statements[:stmt.index]:
        n = s.node
        if isinstance(n, ast.IndexStmt) and n.idxname == name:
            return ctx.table_is_new(relation_name(n.relation))
    return False


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.DropStmt) or n.removeType != ObjectType.OBJECT_INDEX or n.concurrent:
        return None
    names = [obj[-1].sval for obj in n.objects or ()]
    return flag_if(not names or not all(_created_on_new_table(name, stmt, ctx) for name in names))
