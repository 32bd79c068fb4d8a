"""ALTER ... SET SCHEMA moves a table, view, function, type, sequence, domain
or extension: code that finds it by its old schema (or search_path) breaks."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT

RULE = Rule(
    id="ban-set-schema",
    severity="error",
    message="moving an object to another schema breaks running code that uses its old qualified name",
    hint="move every user to the new schema first, then say so: -- squawk-ignore ban-set-schema -- <why>",
    squawk="default",
    nodes=(ast.AlterObjectSchemaStmt,),
    examples=[
        flags("ALTER TABLE t SET SCHEMA s;"),
        flags("ALTER VIEW v SET SCHEMA s;"),
        flags("ALTER MATERIALIZED VIEW mv SET SCHEMA s;"),
        flags("ALTER FUNCTION f() SET SCHEMA s;"),
        flags("ALTER TYPE ty SET SCHEMA s;"),
        flags("ALTER SEQUENCE q SET SCHEMA s;"),
        flags("ALTER DOMAIN d SET SCHEMA s;"),
        flags("ALTER EXTENSION e SET SCHEMA s;"),
        passes("ALTER TABLE t OWNER TO app;"),
        passes("ALTER COLLATION c SET SCHEMA s;"),
    ],
)

_KINDS = {OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_FUNCTION,
          OT.OBJECT_PROCEDURE, OT.OBJECT_ROUTINE, OT.OBJECT_AGGREGATE, OT.OBJECT_TYPE, OT.OBJECT_SEQUENCE,
          OT.OBJECT_DOMAIN, OT.OBJECT_EXTENSION}


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, ast.AlterObjectSchemaStmt) and n.objectType in _KINDS)
