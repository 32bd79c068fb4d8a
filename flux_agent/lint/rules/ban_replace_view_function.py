"""CREATE OR REPLACE VIEW / FUNCTION / PROCEDURE / TRIGGER / RULE / AGGREGATE:
running code silently gets the new behaviour."""
# squawk default: no (opt-in)

from pglast import ast
from pglast.enums import ObjectType

from ._squawk_compat import opt_in

ID = "ban-replace-view-function"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "replacing a view or function silently changes behaviour for running code"
HINT = ("create a new version under a new name and move callers, or say why it is safe: "
        "-- squawk-ignore ban-replace-view-function -- <why>")


def check(stmt, ctx):
    n = stmt.node
    if not opt_in(ctx, ID):
        return None
    if isinstance(n, (ast.ViewStmt, ast.CreateFunctionStmt, ast.CreateTrigStmt, ast.RuleStmt)):
        return bool(n.replace)
    return isinstance(n, ast.DefineStmt) and n.kind == ObjectType.OBJECT_AGGREGATE and bool(n.replace)
