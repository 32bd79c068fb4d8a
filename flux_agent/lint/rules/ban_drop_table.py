"""DROP TABLE / DROP FOREIGN TABLE: running code that still uses the table fails."""
# squawk default: yes

from ._squawk_compat import OT, dropped

ID = "ban-drop-table"
SEVERITY = "error"
MESSAGE = "dropping a table breaks running code that still uses it"
HINT = ("stop using the table in the application first; in the contract step that drops it, "
        "say so: -- squawk-ignore ban-drop-table -- <why>")


def check(stmt, ctx):
    return dropped(stmt.node, OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE)
