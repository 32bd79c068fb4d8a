"""ALTER COLUMN ... SET DEFAULT (tables, foreign tables, views, domains):
inserts from running code that omit the column silently get the new value."""
# squawk default: no (opt-in)

from pglast import ast

from ._squawk_compat import AT, OT, has_cmd, opt_in

ID = "ban-set-default"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "setting a column default silently changes values written by running code"
HINT = "check inserts that omit the column, then say so: -- squawk-ignore ban-set-default -- <why>"


def check(stmt, ctx):
    n = stmt.node
    if not opt_in(ctx, ID):
        return None
    if isinstance(n, ast.AlterDomainStmt):
        return n.subtype == "T" and n.def_ is not None
    return has_cmd(n, (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_VIEW), (AT.AT_ColumnDefault,),
                   lambda c: c.def_ is not None)
