"""ALTER FUNCTION / PROCEDURE / ROUTINE with options (SECURITY DEFINER,
volatility, SET search_path, ...): behaviour changes for running callers."""
# squawk default: no (opt-in)

from pglast import ast

from ._squawk_compat import opt_in

ID = "ban-alter-function-options"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "changing function options changes behaviour for running callers"
HINT = "check every caller, then say so: -- squawk-ignore ban-alter-function-options -- <why>"


def check(stmt, ctx):
    return opt_in(ctx, ID) and isinstance(stmt.node, ast.AlterFunctionStmt)
