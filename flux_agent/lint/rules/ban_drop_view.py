"""DROP VIEW / DROP MATERIALIZED VIEW: queries against the view fail."""
# squawk default: yes

from ._squawk_compat import OT, dropped

ID = "ban-drop-view"
SEVERITY = "error"
MESSAGE = "dropping a view breaks running code that queries it"
HINT = "move every reader off the view first, then say so: -- squawk-ignore ban-drop-view -- <why>"


def check(stmt, ctx):
    return dropped(stmt.node, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW)
