"""ALTER TABLE ... ENABLE / DISABLE TRIGGER or RULE, DISABLE / FORCE / NO FORCE
ROW LEVEL SECURITY: behaviour running code relies on changes silently."""
# squawk default: no (opt-in)

from ._squawk_compat import AT, OT, has_cmd, opt_in

ID = "ban-disable-trigger"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "switching triggers, rules or row level security silently changes behaviour for running clients"
HINT = ("check what the trigger or rule does for running code, then say so: "
        "-- squawk-ignore ban-disable-trigger -- <why>")

_CMDS = (AT.AT_EnableTrig, AT.AT_EnableAlwaysTrig, AT.AT_EnableReplicaTrig, AT.AT_DisableTrig,
         AT.AT_EnableTrigAll, AT.AT_DisableTrigAll, AT.AT_EnableTrigUser, AT.AT_DisableTrigUser,
         AT.AT_EnableRule, AT.AT_EnableAlwaysRule, AT.AT_EnableReplicaRule, AT.AT_DisableRule,
         AT.AT_DisableRowSecurity, AT.AT_ForceRowSecurity, AT.AT_NoForceRowSecurity)


def check(stmt, ctx):
    return opt_in(ctx, ID) and has_cmd(stmt.node, (OT.OBJECT_TABLE,), _CMDS)
