"""ALTER TYPE ... ADD ATTRIBUTE on an existing composite type: values running
clients receive change shape."""

from pglast import ast

from ...pg.quote import relation_name
from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, created_earlier, has_cmd

RULE = Rule(
    id="ban-add-composite-attribute",
    severity="warning",
    message="adding an attribute changes the shape of composite values running clients receive",
    hint="check every reader of the type, then say so: -- squawk-ignore ban-add-composite-attribute -- <why>",
    squawk="opt-in",
    nodes=(ast.AlterTableStmt,),
    opt_in=True,
    examples=[
        flags("ALTER TYPE ty ADD ATTRIBUTE b text;"),
        flags("ALTER TYPE public.ty ADD ATTRIBUTE b text;"),
        passes("CREATE TYPE ty AS (a text); ALTER TYPE ty ADD ATTRIBUTE b text;"),
        passes("ALTER TYPE ty DROP ATTRIBUTE b;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(has_cmd(n, (OT.OBJECT_TYPE,), (AT.AT_AddColumn,))
                   and relation_name(n.relation) not in created_earlier(ctx, stmt)["type"])
