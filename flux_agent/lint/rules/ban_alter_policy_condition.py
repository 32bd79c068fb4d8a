"""ALTER POLICY ... USING / WITH CHECK: which rows clients see or may write changes."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-alter-policy-condition",
    severity="warning",
    message="changing a policy's condition changes which rows running clients can read or write",
    hint=("check the new condition against every client, then say so: -- squawk-ignore ban-alter-policy-condition "
          "-- <why>"),
    squawk="opt-in",
    nodes=(ast.AlterPolicyStmt,),
    opt_in=True,
    examples=[
        flags("ALTER POLICY p ON t USING (true);"),
        flags("ALTER POLICY p ON t WITH CHECK (true);"),
        passes("ALTER POLICY p ON t TO r;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, ast.AlterPolicyStmt) and (n.qual is not None or n.with_check is not None))
