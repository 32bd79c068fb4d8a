"""ALTER VIEW ... SET / RESET (security_barrier, security_invoker,
check_option): what running clients see through the view changes."""
# squawk default: no (opt-in)

from ._squawk_compat import AT, OT, has_cmd, opt_in

ID = "ban-alter-view-options"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "changing view options changes what running clients see through the view"
HINT = "check every reader of the view, then say so: -- squawk-ignore ban-alter-view-options -- <why>"


def check(stmt, ctx):
    return opt_in(ctx, ID) and has_cmd(stmt.node, (OT.OBJECT_VIEW,), (AT.AT_SetRelOptions, AT.AT_ResetRelOptions))
