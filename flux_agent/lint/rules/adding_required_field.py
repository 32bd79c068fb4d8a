"""ADD COLUMN ... NOT NULL with no default fails on any table that has rows, and
existing clients that do not send the column can no longer insert."""
# squawk default: yes

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType

from ...pg.locks import alter_cmds
from ...pg.quote import relation_name

ID = "adding-required-field"
SEVERITY = "error"
MESSAGE = "ADD COLUMN NOT NULL without a default fails on a table with rows and breaks inserts from existing clients"
HINT = "add the column nullable (or with a non-volatile DEFAULT), backfill, then add NOT NULL through a validated CHECK"

_SERIAL = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}
# A value comes from somewhere even without DEFAULT: identity, generated columns.
_FILLED = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.AlterTableStmt) or ctx.table_is_new(relation_name(n.relation)):
        return None  # a table created in this migration is empty
    for cmd in alter_cmds(n):
        col = cmd.def_
        if cmd.subtype != AT.AT_AddColumn or not isinstance(col, ast.ColumnDef):
            continue
        kinds = {c.contype for c in col.constraints or ()}
        serial = col.typeName is not None and col.typeName.names[-1].sval in _SERIAL
        if (ConstrType.CONSTR_NOTNULL in kinds or ConstrType.CONSTR_PRIMARY in kinds) \
                and not kinds & _FILLED and not serial:
            return (f"ADD COLUMN {col.colname} NOT NULL without a default fails on a table that has rows "
                    "and breaks inserts from existing clients")
    return None
