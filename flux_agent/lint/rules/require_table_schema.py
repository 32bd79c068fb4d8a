"""CREATE / ALTER / DROP TABLE with an unqualified name: which table it hits
depends on the session's search_path."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT

RULE = Rule(
    id="require-table-schema",
    severity="warning",
    message="the table name is not schema-qualified; which table it means depends on search_path",
    hint="write schema.table, e.g. public.orders",
    squawk="opt-in",
    opt_in=True,
    examples=[
        flags("CREATE TABLE t (c text);"),
        flags("CREATE UNLOGGED TABLE t (c text);"),
        flags("CREATE TABLE t AS SELECT 1;"),
        flags("ALTER TABLE t ADD COLUMN c text;"),
        flags("ALTER TABLE t RENAME TO u;"),
        flags("ALTER TABLE t OWNER TO r;"),
        flags("DROP TABLE public.t, u;"),
        passes("CREATE TABLE public.t (c text);"),
        passes("CREATE TEMP TABLE t (c text);"),
        passes("CREATE TEMP TABLE t AS SELECT 1;"),
        passes("ALTER TABLE public.t ADD COLUMN c text;"),
        passes("DROP TABLE public.t;"),
        passes("CREATE FOREIGN TABLE ft (c text) SERVER s;"),
    ],
)

_RENAMES = {OT.OBJECT_TABLE, OT.OBJECT_TABCONSTRAINT}


def _unqualified(rv) -> bool:
    return rv is not None and not rv.schemaname


def check(stmt, ctx):
    return flag_if(_names_unqualified_table(stmt.node))


def _names_unqualified_table(n) -> bool:
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
    return False
