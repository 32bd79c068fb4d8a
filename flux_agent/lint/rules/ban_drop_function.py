"""DROP FUNCTION / PROCEDURE / ROUTINE / AGGREGATE: callers fail."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-function",
    severity="error",
    message="dropping a function breaks running code, triggers and views that call it",
    hint="remove every caller first, then say so: -- squawk-ignore ban-drop-function -- <why>",
    squawk="default",
    nodes=(ast.DropStmt,),
    examples=[
        flags("DROP FUNCTION f();"),
        flags("DROP FUNCTION IF EXISTS f(int) CASCADE;"),
        flags("DROP PROCEDURE p();"),
        flags("DROP ROUTINE r();"),
        flags("DROP AGGREGATE a(int);"),
        passes("DROP TRIGGER tr ON t;"),
        passes("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';"),
    ],
)


def check(stmt, ctx):
    return flag_if(dropped(stmt.node, OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE, OT.OBJECT_ROUTINE, OT.OBJECT_AGGREGATE))
