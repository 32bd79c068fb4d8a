"""ALTER COLUMN ... DROP EXPRESSION: a generated column turns into a plain one;
it stops following its expression and writers must now fill it."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, has_cmd

RULE = Rule(
    id="ban-drop-generated-expression",
    severity="error",
    message="dropping a generated expression leaves a column that no longer follows its inputs",
    hint=("make running code write the column itself first, then say so: "
          "-- squawk-ignore ban-drop-generated-expression -- <why>"),
    squawk="default",
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE t ALTER COLUMN c DROP EXPRESSION;"),
        flags("ALTER TABLE t ALTER COLUMN c DROP EXPRESSION IF EXISTS;"),
        passes("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;"),
        passes("ALTER TABLE t ADD COLUMN c bigint GENERATED ALWAYS AS (1) STORED;"),
    ],
)


def check(stmt, ctx):
    return flag_if(has_cmd(stmt.node, (OT.OBJECT_TABLE,), (AT.AT_DropExpression,)))
