"""ALTER POLICY ... USING / WITH CHECK: which rows clients see or may write changes."""
# squawk default: no (opt-in)

from pglast import ast

from ._squawk_compat import opt_in

ID = "ban-alter-policy-condition"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "changing a policy's condition changes which rows running clients can read or write"
HINT = "check the new condition against every client, then say so: -- squawk-ignore ban-alter-policy-condition -- <why>"


def check(stmt, ctx):
    n = stmt.node
    return opt_in(ctx, ID) and isinstance(n, ast.AlterPolicyStmt) and (n.qual is not None or n.with_check is not None)
