"""ALTER DOMAIN ... ADD CONSTRAINT checks every column of the domain's type in every
table that uses it, holding locks on all of them; and even NOT VALID it can
reject writes that existing clients make."""

from pglast import ast

from ._rule import FLAGGED, Rule, Verdict, flags, passes

RULE = Rule(
    id="ban-alter-domain-with-add-constraint",
    severity="warning",
    message=("ALTER DOMAIN ADD CONSTRAINT checks every table that uses the domain at once and cannot be staged per "
             "table"),
    hint="put the rule in table CHECK constraints instead: ADD CONSTRAINT ... NOT VALID, then VALIDATE, per table",
    squawk="default",
    nodes=(ast.AlterDomainStmt,),
    examples=[
        flags("ALTER DOMAIN positive ADD CONSTRAINT gt0 CHECK (VALUE > 0);"),
        flags("ALTER DOMAIN positive ADD CONSTRAINT gt0 CHECK (VALUE > 0) NOT VALID;"),
        passes("ALTER DOMAIN positive VALIDATE CONSTRAINT gt0;"),
        passes("ALTER DOMAIN positive DROP CONSTRAINT gt0;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.AlterDomainStmt) and n.subtype == "C":
        if getattr(n.def_, "skip_validation", False):
            return Verdict("ALTER DOMAIN ADD CONSTRAINT ... NOT VALID: the domain's constraint applies to every "
                           "table using it and its VALIDATE scans them all at once")
        return FLAGGED
    return None
