"""ALTER POLICY ... TO <roles>: which clients the policy applies to changes."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-alter-policy-roles",
    severity="warning",
    message="changing a policy's roles changes access for running clients",
    hint="check every affected role, then say so: -- squawk-ignore ban-alter-policy-roles -- <why>",
    squawk="opt-in",
    nodes=(ast.AlterPolicyStmt,),
    opt_in=True,
    examples=[
        flags("ALTER POLICY p ON t TO r;"),
        flags("ALTER POLICY p ON t TO r USING (true);"),
        passes("ALTER POLICY p ON t USING (true);"),
        passes("ALTER POLICY p ON t RENAME TO q;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, ast.AlterPolicyStmt) and n.roles)
