"""ALTER FUNCTION / PROCEDURE / ROUTINE with options (SECURITY DEFINER,
volatility, SET search_path, ...): behaviour changes for running callers."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-alter-function-options",
    severity="warning",
    message="changing function options changes behaviour for running callers",
    hint="check every caller, then say so: -- squawk-ignore ban-alter-function-options -- <why>",
    squawk="opt-in",
    nodes=(ast.AlterFunctionStmt,),
    opt_in=True,
    examples=[
        flags("ALTER FUNCTION f() SECURITY DEFINER;"),
        flags("ALTER FUNCTION f() SET search_path TO private;"),
        flags("ALTER PROCEDURE p() RESET ALL;"),
        flags("ALTER ROUTINE f() IMMUTABLE;"),
        passes("ALTER FUNCTION f() OWNER TO r;"),
        passes("ALTER FUNCTION f() RENAME TO g;"),
    ],
)


def check(stmt, ctx):
    return flag_if(isinstance(stmt.node, ast.AlterFunctionStmt))
