"""ADD UNIQUE without USING INDEX builds the index under ACCESS EXCLUSIVE: reads
and writes wait for the whole build. (ADD PRIMARY KEY is the same cost; as in
squawk, adding-serial-primary-key-field reports it, so it is not reported twice.)"""
# squawk default: yes

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType

from ...pg.locks import added_constraint, alter_cmds
from ...pg.quote import relation_name

ID = "disallowed-unique-constraint"
SEVERITY = "error"
MESSAGE = "adding a UNIQUE constraint builds its index under ACCESS EXCLUSIVE, blocking reads and writes"
HINT = "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX"


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.AlterTableStmt) or ctx.table_is_new(relation_name(n.relation)):
        return None  # indexing an empty new table is instant
    for cmd in alter_cmds(n):
        con = added_constraint(cmd)
        if con is not None and con.contype == ConstrType.CONSTR_UNIQUE and not con.indexname:
            return True
        if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            if any(c.contype == ConstrType.CONSTR_UNIQUE for c in cmd.def_.constraints or ()):
                return (f"ADD COLUMN {cmd.def_.colname} ... UNIQUE builds the index under ACCESS EXCLUSIVE, "
                        "blocking reads and writes")
    return None
