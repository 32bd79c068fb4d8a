"""DROP POLICY: row level security access changes for running clients."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-policy",
    severity="error",
    message="dropping a policy changes which rows running clients can read or write",
    hint="check the access that remains, then say so: -- squawk-ignore ban-drop-policy -- <why>",
    squawk="opt-in",
    nodes=(ast.DropStmt,),
    opt_in=True,
    examples=[
        flags("DROP POLICY p ON t;"),
        flags("DROP POLICY IF EXISTS p ON t;"),
        passes("CREATE POLICY p ON t USING (true);"),
    ],
)


def check(stmt, ctx):
    return flag_if(dropped(stmt.node, OT.OBJECT_POLICY))
