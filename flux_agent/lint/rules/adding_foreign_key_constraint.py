"""A foreign key added without NOT VALID checks every existing row while it holds
SHARE ROW EXCLUSIVE on both tables: writes to each table wait for the scan."""
# squawk default: yes

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType

from ...pg.locks import added_constraint, alter_cmds
from ...pg.quote import relation_name

ID = "adding-foreign-key-constraint"
SEVERITY = "error"
MESSAGE = ("adding a foreign key scans the table under SHARE ROW EXCLUSIVE on both tables, "
           "blocking writes to each while it checks every row")
HINT = "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a separate transaction"


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.AlterTableStmt) or ctx.table_is_new(relation_name(n.relation)):
        return None  # a new table has no rows to check
    for cmd in alter_cmds(n):
        con = added_constraint(cmd)
        if con is not None and con.contype == ConstrType.CONSTR_FOREIGN and not con.skip_validation:
            return True
        if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            if any(c.contype == ConstrType.CONSTR_FOREIGN for c in cmd.def_.constraints or ()):
                return (f"ADD COLUMN {cmd.def_.colname} ... REFERENCES adds a validated foreign key: it scans "
                        "the table under SHARE ROW EXCLUSIVE on both tables")
    return None
