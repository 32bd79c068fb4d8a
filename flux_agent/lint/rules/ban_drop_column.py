"""ALTER TABLE ... DROP COLUMN (also foreign tables, and DROP ATTRIBUTE of a
composite type): running code that still reads or writes the column fails."""
# squawk default: yes

from ._squawk_compat import AT, OT, alter_cmds_of

ID = "ban-drop-column"
SEVERITY = "error"
MESSAGE = "dropping a column breaks running code that still reads or writes it"
HINT = ("stop using the column in the application first; in the contract step that drops it, "
        "say so: -- squawk-ignore ban-drop-column -- <why>")


def check(stmt, ctx):
    n = stmt.node
    if any(c.subtype == AT.AT_DropColumn for c in alter_cmds_of(n, OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE)):
        return True
    if any(c.subtype == AT.AT_DropColumn for c in alter_cmds_of(n, OT.OBJECT_TYPE)):
        return "dropping an attribute of a composite type breaks running code that reads it"
    return None
