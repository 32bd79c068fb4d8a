"""DROP TRIGGER: behaviour running code relies on (sync, audit) silently stops."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-trigger",
    severity="error",
    message="dropping a trigger silently stops behaviour that running code may rely on",
    hint="check nothing relies on the trigger, then say so: -- squawk-ignore ban-drop-trigger -- <why>",
    squawk="opt-in",
    nodes=(ast.DropStmt,),
    opt_in=True,
    examples=[
        flags("DROP TRIGGER tr ON t;"),
        flags("DROP TRIGGER IF EXISTS tr ON t;"),
        passes("DROP EVENT TRIGGER et;"),
        passes("DROP RULE r ON t;"),
    ],
)


def check(stmt, ctx):
    return flag_if(dropped(stmt.node, OT.OBJECT_TRIGGER))
