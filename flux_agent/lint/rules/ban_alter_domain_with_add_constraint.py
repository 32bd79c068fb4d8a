"""ALTER DOMAIN ... ADD CONSTRAINT checks every column of the domain's type in every
table that uses it, holding locks on all of them; and even NOT VALID it can
reject writes that existing clients make."""
# squawk default: yes

from pglast import ast

ID = "ban-alter-domain-with-add-constraint"
SEVERITY = "warning"
MESSAGE = "ALTER DOMAIN ADD CONSTRAINT checks every table that uses the domain at once and cannot be staged per table"
HINT = "put the rule in table CHECK constraints instead: ADD CONSTRAINT ... NOT VALID, then VALIDATE, per table"


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.AlterDomainStmt) and n.subtype == "C":
        if getattr(n.def_, "skip_validation", False):
            return ("ALTER DOMAIN ADD CONSTRAINT ... NOT VALID: the domain's constraint applies to every table "
                    "using it and its VALIDATE scans them all at once")
        return True
    return None
