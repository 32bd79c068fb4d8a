"""DROP POLICY: row level security access changes for running clients."""
# squawk default: no (opt-in)

from ._squawk_compat import OT, dropped, opt_in

ID = "ban-drop-policy"
SEVERITY = "error"
OPT_IN = True
MESSAGE = "dropping a policy changes which rows running clients can read or write"
HINT = "check the access that remains, then say so: -- squawk-ignore ban-drop-policy -- <why>"


def check(stmt, ctx):
    return opt_in(ctx, ID) and dropped(stmt.node, OT.OBJECT_POLICY)
