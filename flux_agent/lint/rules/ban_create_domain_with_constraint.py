"""CREATE DOMAIN with a constraint: a domain's constraints are checked against every
column of that type, and changing them later cannot be done online (no NOT VALID
step per table, every table using it scanned at once)."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-create-domain-with-constraint",
    severity="warning",
    message="a domain with constraints is hard to change online: later changes scan every table that uses it",
    hint="use a plain domain (or the base type) with table CHECK constraints, which can be added NOT VALID per table",
    squawk="default",
    nodes=(ast.CreateDomainStmt,),
    examples=[
        flags("CREATE DOMAIN positive AS int CHECK (VALUE > 0);"),
        flags("CREATE DOMAIN code AS text NOT NULL;"),
        passes("CREATE DOMAIN code AS text;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, ast.CreateDomainStmt) and n.constraints)
