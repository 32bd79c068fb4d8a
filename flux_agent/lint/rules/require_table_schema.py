"""CREATE / ALTER / DROP TABLE with an unqualified name: which table it hits
depends on the session's search_path."""
# squawk default: no (opt-in)

from pglast import ast

from ._squawk_compat import OT, opt_in

ID = "require-table-schema"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "the table name is not schema-qualified; which table it means depends on search_path"
HINT = "write schema.table, e.g. public.orders"

_RENAMES = {OT.OBJECT_TABLE, OT.OBJECT_TABCONSTRAINT}


def _unqualified(rv) -> bool:
    return rv is not None and not rv.schemaname


def check(stmt, ctx):
    n = stmt.node
    if not opt_in(ctx, ID):
        return None
    if isinstance(n, ast.CreateStmt):
        return n.relation.relpersistence != "t" and _unqualified(n.relation)
    if isinstance(n, ast.CreateTableAsStmt) and n.objtype == OT.OBJECT_TABLE:
        return n.into.rel.relpersistence != "t" and _unqualified(n.into.rel)
    if isinstance(n, ast.AlterTableStmt) and n.objtype == OT.OBJECT_TABLE:
        return _unqualified(n.relation)
    if isinstance(n, ast.RenameStmt) and (n.renameType in _RENAMES or n.relationType == OT.OBJECT_TABLE):
        return _unqualified(n.relation)
    if isinstance(n, ast.AlterObjectSchemaStmt) and n.objectType == OT.OBJECT_TABLE:
        return _unqualified(n.relation)
    if isinstance(n, ast.DropStmt) and n.removeType == OT.OBJECT_TABLE:
        return any(len(name) == 1 for name in n.objects or ())
    return None
