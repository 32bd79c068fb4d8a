"""DROP INDEX: queries that relied on it slow down; a unique index's guarantee goes."""
# squawk default: no (opt-in)

from ._squawk_compat import OT, dropped, opt_in

ID = "ban-drop-index"
SEVERITY = "error"
OPT_IN = True
MESSAGE = "dropping an index can slow running queries or remove a uniqueness guarantee"
HINT = "check no query or constraint needs the index, then say so: -- squawk-ignore ban-drop-index -- <why>"


def check(stmt, ctx):
    return opt_in(ctx, ID) and dropped(stmt.node, OT.OBJECT_INDEX)
