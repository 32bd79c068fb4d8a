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
    reads_schema=True,  # which table an index is on, where the file drops that table after it
    nodes=(ast.DropStmt,),
    examples=[
        flags("DROP INDEX IF EXISTS orders_status_idx;"),
        passes("DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;", transactional=False),
        passes("CREATE TABLE t (id bigint);\nCREATE INDEX t_id_idx ON t (id);\n"
               "DROP INDEX t_id_idx;", squawk_agrees=False,
               why="an index on a table created in this migration; squawk does not follow it"),
        passes("DROP INDEX ix_pledges_state;\nDROP TABLE pledges;",
               schema_sql="CREATE TABLE pledges (id bigint, state text);\nCREATE INDEX ix_pledges_state ON pledges (state);",
               squawk_agrees=False, why="the migration drops the index's table right after (polar's drop of "
                                        "pledge_transactions): that takes the same lock, and ban-drop-table says so"),
        flags("DROP INDEX ix_pledges_state;\nDROP TABLE other;",
              schema_sql="CREATE TABLE pledges (id bigint, state text);\nCREATE INDEX ix_pledges_state ON pledges (state);"
                     "\nCREATE TABLE other (id bigint);"),
    ],
)


def _created_on_new_table(name, stmt, ctx):
    """Was index `name` created earlier in this migration, on a table also created here?"""
    for s in ctx.statements[:stmt.index]:
        n = s.node
        if isinstance(n, ast.IndexStmt) and n.idxname == name:
            return ctx.table_is_new(relation_name(n.relation))
    return False


def _table_dropped_later(name, stmt, ctx):
    """Is the table of index `name` (as the schema knows it) dropped later in this migration?"""
    schema = ctx.names_schema()
    table = next((t.name for t in schema.tables for i in t.indexes if i.name == name), None) if schema else None
    if table is None:
        return False
    bare = table.split(".")[-1]
    return any(isinstance(s.node, ast.DropStmt) and s.node.removeType == ObjectType.OBJECT_TABLE
               and any(obj[-1].sval == bare for obj in s.node.objects or ()) for s in ctx.statements[stmt.index + 1:])


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.DropStmt) or n.removeType != ObjectType.OBJECT_INDEX or n.concurrent:
        return None
    names = [obj[-1].sval for obj in n.objects or ()]
    return flag_if(not names or not all(_created_on_new_table(name, stmt, ctx) or _table_dropped_later(name, stmt, ctx)
                                        for name in names))
