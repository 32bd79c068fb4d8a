"""ALTER VIEW ... SET / RESET (security_barrier, security_invoker,
check_option): what running clients see through the view changes."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, has_cmd

RULE = Rule(
    id="ban-alter-view-options",
    severity="warning",
    message="changing view options changes what running clients see through the view",
    hint="check every reader of the view, then say so: -- squawk-ignore ban-alter-view-options -- <why>",
    squawk="opt-in",
    nodes=(ast.AlterTableStmt,),
    opt_in=True,
    examples=[
        flags("ALTER VIEW v SET (security_barrier = true);"),
        flags("ALTER VIEW v RESET (security_barrier);"),
        passes("ALTER VIEW v RENAME TO w;"),
        passes("ALTER MATERIALIZED VIEW mv SET (fillfactor = 50);"),
        passes("ALTER TABLE t SET (fillfactor = 50);"),
    ],
)


def check(stmt, ctx):
    return flag_if(has_cmd(stmt.node, (OT.OBJECT_VIEW,), (AT.AT_SetRelOptions, AT.AT_ResetRelOptions)))
