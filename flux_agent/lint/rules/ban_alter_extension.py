"""ALTER EXTENSION ... UPDATE (objects may change or go) and ALTER EXTENSION
... DROP <object> (the object leaves the extension's management)."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-alter-extension",
    severity="warning",
    message="updating an extension, or removing an object from it, can change objects running code uses",
    hint="read the extension's upgrade notes, then say so: -- squawk-ignore ban-alter-extension -- <why>",
    squawk="opt-in",
    nodes=(ast.AlterExtensionStmt, ast.AlterExtensionContentsStmt),
    opt_in=True,
    examples=[
        flags("ALTER EXTENSION e UPDATE;"),
        flags("ALTER EXTENSION e UPDATE TO '2.0';"),
        flags("ALTER EXTENSION e DROP FUNCTION f();"),
        passes("ALTER EXTENSION e ADD FUNCTION f();"),
        passes("CREATE EXTENSION e;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, ast.AlterExtensionStmt)
                   or (isinstance(n, ast.AlterExtensionContentsStmt) and n.action == -1))
