"""CREATE POLICY: on a table with row level security on, access changes at once."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-create-policy",
    severity="warning",
    message="creating a policy can change access for running clients",
    hint="check the policy against every client role, then say so: -- squawk-ignore ban-create-policy -- <why>",
    squawk="opt-in",
    nodes=(ast.CreatePolicyStmt,),
    opt_in=True,
    examples=[
        flags("CREATE POLICY p ON t USING (true);"),
        passes("ALTER POLICY p ON t USING (true);"),
        passes("DROP POLICY p ON t;"),
    ],
)


def check(stmt, ctx):
    return flag_if(isinstance(stmt.node, ast.CreatePolicyStmt))
