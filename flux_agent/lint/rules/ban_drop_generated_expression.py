"""ALTER COLUMN ... DROP EXPRESSION: a generated column turns into a plain one;
it stops following its expression and writers must now fill it."""
# squawk default: yes

from ._squawk_compat import AT, OT, has_cmd

ID = "ban-drop-generated-expression"
SEVERITY = "error"
MESSAGE = "dropping a generated expression leaves a column that no longer follows its inputs"
HINT = ("make running code write the column itself first, then say so: "
        "-- squawk-ignore ban-drop-generated-expression -- <why>")


def check(stmt, ctx):
    return has_cmd(stmt.node, (OT.OBJECT_TABLE,), (AT.AT_DropExpression,))
