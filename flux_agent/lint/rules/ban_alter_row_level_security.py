"""ENABLE / DISABLE / FORCE / NO FORCE ROW LEVEL SECURITY: which rows running
clients can see or write changes at once."""
# squawk default: no (opt-in)

from ._squawk_compat import AT, OT, has_cmd, opt_in

ID = "ban-alter-row-level-security"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "changing row level security changes which rows running clients can read or write"
HINT = ("check the policies against every client role, then say so: "
        "-- squawk-ignore ban-alter-row-level-security -- <why>")

_CMDS = (AT.AT_EnableRowSecurity, AT.AT_DisableRowSecurity, AT.AT_ForceRowSecurity, AT.AT_NoForceRowSecurity)


def check(stmt, ctx):
    return opt_in(ctx, ID) and has_cmd(stmt.node, (OT.OBJECT_TABLE,), _CMDS)
