"""ALTER TABLE ... ENABLE / DISABLE TRIGGER or RULE, DISABLE / FORCE / NO FORCE
ROW LEVEL SECURITY: behaviour running code relies on changes silently."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, has_cmd

RULE = Rule(
    id="ban-disable-trigger",
    severity="warning",
    message="switching triggers, rules or row level security silently changes behaviour for running clients",
    hint=("check what the trigger or rule does for running code, then say so: "
          "-- squawk-ignore ban-disable-trigger -- <why>"),
    squawk="opt-in",
    nodes=(ast.AlterTableStmt,),
    opt_in=True,
    examples=[
        flags("ALTER TABLE t DISABLE TRIGGER tr;"),
        flags("ALTER TABLE t DISABLE TRIGGER ALL;"),
        flags("ALTER TABLE t ENABLE REPLICA TRIGGER tr;"),
        flags("ALTER TABLE t DISABLE RULE r;"),
        flags("ALTER TABLE t DISABLE ROW LEVEL SECURITY;"),
        flags("ALTER TABLE t FORCE ROW LEVEL SECURITY;"),
        passes("ALTER TABLE t ENABLE ROW LEVEL SECURITY;"),
        passes("ALTER TABLE t ADD COLUMN c text;"),
    ],
)

_CMDS = (AT.AT_EnableTrig, AT.AT_EnableAlwaysTrig, AT.AT_EnableReplicaTrig, AT.AT_DisableTrig,
         AT.AT_EnableTrigAll, AT.AT_DisableTrigAll, AT.AT_EnableTrigUser, AT.AT_DisableTrigUser,
         AT.AT_EnableRule, AT.AT_EnableAlwaysRule, AT.AT_EnableReplicaRule, AT.AT_DisableRule,
         AT.AT_DisableRowSecurity, AT.AT_ForceRowSecurity, AT.AT_NoForceRowSecurity)


def check(stmt, ctx):
    return flag_if(has_cmd(stmt.node, (OT.OBJECT_TABLE,), _CMDS))
