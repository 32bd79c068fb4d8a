"""ALTER EXTENSION ... UPDATE (objects may change or go) and ALTER EXTENSION
... DROP <object> (the object leaves the extension's management)."""
# squawk default: no (opt-in)

from pglast import ast

from ._squawk_compat import opt_in

ID = "ban-alter-extension"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "updating an extension, or removing an object from it, can change objects running code uses"
HINT = "read the extension's upgrade notes, then say so: -- squawk-ignore ban-alter-extension -- <why>"


def check(stmt, ctx):
    n = stmt.node
    if not opt_in(ctx, ID):
        return None
    return isinstance(n, ast.AlterExtensionStmt) or (isinstance(n, ast.AlterExtensionContentsStmt) and n.action == -1)
