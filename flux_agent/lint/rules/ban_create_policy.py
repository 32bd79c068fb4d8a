"""CREATE POLICY: on a table with row level security on, access changes at once."""
# squawk default: no (opt-in)

from pglast import ast

from ._squawk_compat import opt_in

ID = "ban-create-policy"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "creating a policy can change access for running clients"
HINT = "check the policy against every client role, then say so: -- squawk-ignore ban-create-policy -- <why>"


def check(stmt, ctx):
    return opt_in(ctx, ID) and isinstance(stmt.node, ast.CreatePolicyStmt)
