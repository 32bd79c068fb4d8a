"""ALTER POLICY ... TO <roles>: which clients the policy applies to changes."""
# squawk default: no (opt-in)

from pglast import ast

from ._squawk_compat import opt_in

ID = "ban-alter-policy-roles"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "changing a policy's roles changes access for running clients"
HINT = "check every affected role, then say so: -- squawk-ignore ban-alter-policy-roles -- <why>"


def check(stmt, ctx):
    n = stmt.node
    return opt_in(ctx, ID) and isinstance(n, ast.AlterPolicyStmt) and bool(n.roles)
