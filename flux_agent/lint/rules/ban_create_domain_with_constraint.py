"""CREATE DOMAIN with a constraint: a domain's constraints are checked against every
column of that type, and changing them later cannot be done online (no NOT VALID
step per table, every table using it scanned at once)."""
# squawk default: yes

from pglast import ast

ID = "ban-create-domain-with-constraint"
SEVERITY = "warning"
MESSAGE = "a domain with constraints is hard to change online: later changes scan every table that uses it"
HINT = "use a plain domain (or the base type) with table CHECK constraints, which can be added NOT VALID per table"


def check(stmt, ctx):
    n = stmt.node
    return isinstance(n, ast.CreateDomainStmt) and bool(n.constraints)
