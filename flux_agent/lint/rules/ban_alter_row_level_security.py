"""ENABLE / DISABLE / FORCE / NO FORCE ROW LEVEL SECURITY: which rows running
clients can see or write changes at once."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, has_cmd

RULE = Rule(
    id="ban-alter-row-level-security",
    severity="warning",
    message="changing row level security changes which rows running clients can read or write",
    hint=("check the policies against every client role, then say so: "
          "-- squawk-ignore ban-alter-row-level-security -- <why>"),
    squawk="opt-in",
    nodes=(ast.AlterTableStmt,),
    opt_in=True,
    examples=[
        flags("ALTER TABLE t ENABLE ROW LEVEL SECURITY;"),
        flags("ALTER TABLE t DISABLE ROW LEVEL SECURITY;"),
        flags("ALTER TABLE t FORCE ROW LEVEL SECURITY;"),
        flags("ALTER TABLE t NO FORCE ROW LEVEL SECURITY;"),
        passes("ALTER TABLE t ADD COLUMN c text;"),
        passes("ALTER TABLE t REPLICA IDENTITY FULL;"),
    ],
)

_CMDS = (AT.AT_EnableRowSecurity, AT.AT_DisableRowSecurity, AT.AT_ForceRowSecurity, AT.AT_NoForceRowSecurity)


def check(stmt, ctx):
    return flag_if(has_cmd(stmt.node, (OT.OBJECT_TABLE,), _CMDS))
