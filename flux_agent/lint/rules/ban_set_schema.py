"""ALTER ... SET SCHEMA moves a table, view, function, type, sequence, domain
or extension: code that finds it by its old schema (or search_path) breaks."""
# squawk default: yes

from pglast import ast

from ._squawk_compat import OT

ID = "ban-set-schema"
SEVERITY = "error"
MESSAGE = "moving an object to another schema breaks running code that uses its old qualified name"
HINT = "move every user to the new schema first, then say so: -- squawk-ignore ban-set-schema -- <why>"

_KINDS = {OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_FUNCTION,
          OT.OBJECT_PROCEDURE, OT.OBJECT_ROUTINE, OT.OBJECT_AGGREGATE, OT.OBJECT_TYPE, OT.OBJECT_SEQUENCE,
          OT.OBJECT_DOMAIN, OT.OBJECT_EXTENSION}


def check(stmt, ctx):
    n = stmt.node
    return isinstance(n, ast.AlterObjectSchemaStmt) and n.objectType in _KINDS
