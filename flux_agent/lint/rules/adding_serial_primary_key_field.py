"""ADD PRIMARY KEY (or ADD COLUMN ... PRIMARY KEY) builds the unique index while it
holds ACCESS EXCLUSIVE: no reads or writes until the build ends."""
# squawk default: yes

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType

from ...pg.locks import added_constraint, alter_cmds
from ...pg.quote import relation_name

ID = "adding-serial-primary-key-field"
SEVERITY = "error"
MESSAGE = "adding a primary key builds its index under ACCESS EXCLUSIVE, blocking reads and writes for the whole build"
HINT = "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX"


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.AlterTableStmt) or ctx.table_is_new(relation_name(n.relation)):
        return None  # indexing an empty new table is instant
    for cmd in alter_cmds(n):
        con = added_constraint(cmd)
        if con is not None and con.contype == ConstrType.CONSTR_PRIMARY and not con.indexname:
            return True
        if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            if any(c.contype == ConstrType.CONSTR_PRIMARY for c in cmd.def_.constraints or ()):
                return (f"ADD COLUMN {cmd.def_.colname} ... PRIMARY KEY fills and indexes the column "
                        "under ACCESS EXCLUSIVE, blocking reads and writes")
    return None
