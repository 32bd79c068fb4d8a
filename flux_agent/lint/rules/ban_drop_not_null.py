"""DROP NOT NULL on a column (or a domain): code that relies on the column
never being NULL starts reading NULLs."""
# squawk default: yes

from pglast import ast

from ._squawk_compat import AT, OT, has_cmd

ID = "ban-drop-not-null"
SEVERITY = "error"
MESSAGE = "dropping NOT NULL lets NULLs reach running code that assumes there are none"
HINT = ("make every reader accept NULL first, then say so: "
        "-- squawk-ignore ban-drop-not-null -- <why>")


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.AlterDomainStmt):
        return n.subtype == "N"
    return has_cmd(n, (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE), (AT.AT_DropNotNull,))
