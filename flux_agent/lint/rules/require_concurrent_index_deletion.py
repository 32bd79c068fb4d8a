"""DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the index's table."""
# squawk default: yes

from pglast import ast
from pglast.enums import ObjectType

from ...pg.quote import relation_name

ID = "require-concurrent-index-deletion"
SEVERITY = "error"
MESSAGE = "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table: reads and writes wait for it"
HINT = "use DROP INDEX CONCURRENTLY IF EXISTS, alone in a migration that runs outside a transaction"


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
    return not names or not all(_created_on_new_table(name, stmt, ctx) for name in names)
