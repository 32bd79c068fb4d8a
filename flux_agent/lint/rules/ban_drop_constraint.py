"""ALTER TABLE / ALTER DOMAIN ... DROP CONSTRAINT: a guarantee running code
relies on (uniqueness, a foreign key, a CHECK) is gone."""
# squawk default: yes

from pglast import ast

from ._squawk_compat import AT, OT, has_cmd

ID = "ban-drop-constraint"
SEVERITY = "error"
MESSAGE = "dropping a constraint removes a guarantee that running code may rely on"
HINT = ("make sure no code relies on the constraint, then say so: "
        "-- squawk-ignore ban-drop-constraint -- <why>")


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.AlterDomainStmt):
        return n.subtype == "X"
    return has_cmd(n, (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE), (AT.AT_DropConstraint,))
