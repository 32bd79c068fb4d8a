"""Renaming a view, materialized view, foreign table, index, sequence, schema,
type (or an enum value), domain, function, procedure, aggregate, trigger,
policy, constraint, database or role: whatever refers to the old name breaks."""

from pglast import ast

from ._rule import Rule, Verdict, flag_if, flags, passes
from ._squawk_compat import OT

RULE = Rule(
    id="renaming-object",
    severity="error",
    message="renaming this object breaks running code that still uses the old name",
    hint="move every user to the new name first, then say so: -- squawk-ignore renaming-object -- <why>",
    squawk="default",
    nodes=(ast.AlterEnumStmt, ast.RenameStmt),
    examples=[
        flags("ALTER VIEW v RENAME TO w;"),
        flags("ALTER MATERIALIZED VIEW mv RENAME TO mw;"),
        flags("ALTER FOREIGN TABLE ft RENAME TO fu;"),
        flags("ALTER INDEX i RENAME TO j;"),
        flags("ALTER SEQUENCE s RENAME TO s2;"),
        flags("ALTER SCHEMA s RENAME TO s2;"),
        flags("ALTER TYPE ty RENAME TO tz;"),
        flags("ALTER TYPE ty RENAME VALUE 'a' TO 'b';"),
        flags("ALTER DOMAIN d RENAME TO d2;"),
        flags("ALTER DOMAIN d RENAME CONSTRAINT a TO b;"),
        flags("ALTER FUNCTION f() RENAME TO g;"),
        flags("ALTER PROCEDURE p() RENAME TO q;"),
        flags("ALTER AGGREGATE a(int) RENAME TO b;"),
        flags("ALTER TABLE t RENAME CONSTRAINT k TO k2;"),
        flags("ALTER TRIGGER tr ON t RENAME TO tr2;"),
        flags("ALTER POLICY p ON t RENAME TO p2;"),
        flags("ALTER DATABASE d RENAME TO e;"),
        flags("ALTER ROLE r RENAME TO s;"),
        passes("ALTER TABLE t RENAME TO u;"),
        passes("ALTER TABLE t RENAME COLUMN a TO b;"),
        passes("ALTER COLLATION c RENAME TO d;"),
        passes("ALTER TYPE ty ADD VALUE 'c';"),
    ],
)

_KINDS = {OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_INDEX, OT.OBJECT_SEQUENCE,
          OT.OBJECT_SCHEMA, OT.OBJECT_TYPE, OT.OBJECT_DOMAIN, OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE,
          OT.OBJECT_ROUTINE, OT.OBJECT_AGGREGATE, OT.OBJECT_TRIGGER, OT.OBJECT_POLICY, OT.OBJECT_TABCONSTRAINT,
          OT.OBJECT_DOMCONSTRAINT, OT.OBJECT_DATABASE, OT.OBJECT_ROLE}


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.AlterEnumStmt) and n.oldVal is not None:
        return Verdict("renaming an enum value breaks running code that still writes or compares the old value")
    return flag_if(isinstance(n, ast.RenameStmt) and n.renameType in _KINDS)
