"""A foreign key added without NOT VALID checks every existing row while it holds
SHARE ROW EXCLUSIVE on both tables: writes to each table wait for the scan."""

from pglast import ast

from pglast.enums import ConstrType

from ._rule import FLAGGED, Rule, Verdict, flags, passes
from ._squawk_compat import added_constraints, existing_table_alter

RULE = Rule(
    id="adding-foreign-key-constraint",
    severity="error",
    message=("adding a foreign key scans the table under SHARE ROW EXCLUSIVE on both tables, "
             "blocking writes to each while it checks every row"),
    hint="ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a separate transaction",
    squawk="default",
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);"),
        flags("ALTER TABLE orders ADD COLUMN IF NOT EXISTS user_id bigint REFERENCES users (id);"),
        passes(("ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT "
                "VALID;")),
        passes("CREATE TABLE t (id bigint, user_id bigint);\n"
               "ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (user_id) REFERENCES users (id);"),
    ],
)


def check(stmt, ctx):
    _, cmds = existing_table_alter(stmt, ctx)  # a new table has no rows to check
    for con, column in added_constraints(cmds, ConstrType.CONSTR_FOREIGN):
        if column is not None:
            return Verdict(f"ADD COLUMN {column.colname} ... REFERENCES adds a validated foreign key: it scans "
                           "the table under SHARE ROW EXCLUSIVE on both tables")
        if not con.skip_validation:
            return FLAGGED
    return None
