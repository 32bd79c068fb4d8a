"""Renaming a view, materialized view, foreign table, index, sequence, schema,
type (or an enum value), domain, function, procedure, aggregate, trigger,
policy, constraint, database or role: whatever refers to the old name breaks."""
# squawk default: yes

from pglast import ast

from ._squawk_compat import OT

ID = "renaming-object"
SEVERITY = "error"
MESSAGE = "renaming this object breaks running code that still uses the old name"
HINT = "move every user to the new name first, then say so: -- squawk-ignore renaming-object -- <why>"

_KINDS = {OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_INDEX, OT.OBJECT_SEQUENCE,
          OT.OBJECT_SCHEMA, OT.OBJECT_TYPE, OT.OBJECT_DOMAIN, OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE,
          OT.OBJECT_ROUTINE, OT.OBJECT_AGGREGATE, OT.OBJECT_TRIGGER, OT.OBJECT_POLICY, OT.OBJECT_TABCONSTRAINT,
          OT.OBJECT_DOMCONSTRAINT, OT.OBJECT_DATABASE, OT.OBJECT_ROLE}


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.AlterEnumStmt) and n.oldVal is not None:
        return "renaming an enum value breaks running code that still writes or compares the old value"
    return isinstance(n, ast.RenameStmt) and n.renameType in _KINDS
