"""ALTER TYPE ... ADD VALUE without BEFORE or AFTER appends the value at the end of
the enum's sort order, which may not be the order the application expects."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="require-enum-value-ordering",
    severity="warning",
    message="ADD VALUE without BEFORE or AFTER appends the value at the end of the enum's sort order",
    hint="say where the value sorts: ALTER TYPE ... ADD VALUE 'x' BEFORE 'y' (or AFTER 'y')",
    squawk="default",
    nodes=(ast.AlterEnumStmt,),
    examples=[
        flags("ALTER TYPE mood ADD VALUE 'meh';"),
        flags("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh';"),
        passes("ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';"),
        passes("ALTER TYPE mood RENAME VALUE 'meh' TO 'fine';"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    # oldVal is set for RENAME VALUE, which keeps the position.
    return flag_if(isinstance(n, ast.AlterEnumStmt) and not n.oldVal and n.newVal is not None and not n.newValNeighbor)
