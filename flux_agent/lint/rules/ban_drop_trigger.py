"""DROP TRIGGER: behaviour running code relies on (sync, audit) silently stops."""
# squawk default: no (opt-in)

from ._squawk_compat import OT, dropped, opt_in

ID = "ban-drop-trigger"
SEVERITY = "error"
OPT_IN = True
MESSAGE = "dropping a trigger silently stops behaviour that running code may rely on"
HINT = "check nothing relies on the trigger, then say so: -- squawk-ignore ban-drop-trigger -- <why>"


def check(stmt, ctx):
    return opt_in(ctx, ID) and dropped(stmt.node, OT.OBJECT_TRIGGER)
