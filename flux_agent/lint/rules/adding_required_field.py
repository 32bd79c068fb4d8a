"""ADD COLUMN ... NOT NULL with no default fails on any table that has rows, and
existing clients that do not send the column can no longer insert."""

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType

from ._rule import Rule, Verdict, flags, passes
from ._squawk_compat import existing_table_alter

RULE = Rule(
    id="adding-required-field",
    severity="error",
    message=("ADD COLUMN NOT NULL without a default fails on a table with rows and breaks inserts from existing "
             "clients"),
    hint=("add the column nullable (or with a non-volatile DEFAULT), backfill, then add NOT NULL through a "
          "validated CHECK"),
    squawk="default",
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE users ADD COLUMN age integer NOT NULL;"),
        passes("ALTER TABLE users ADD COLUMN age integer NOT NULL DEFAULT 0;"),
        passes("ALTER TABLE users ADD COLUMN age integer;"),
        passes("ALTER TABLE t ADD COLUMN c numeric GENERATED ALWAYS AS (a + b) STORED NOT NULL;"),
        passes("CREATE TABLE t (id bigint);\nALTER TABLE t ADD COLUMN c text NOT NULL;", squawk_agrees=False,
               why="a table created in this migration is empty; squawk does not follow it"),
    ],
)

_SERIAL = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}
# A value comes from somewhere even without DEFAULT: identity, generated columns.
_FILLED = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}


def check(stmt, ctx):
    _, cmds = existing_table_alter(stmt, ctx)  # a table created in this migration is empty
    for cmd in cmds:
        col = cmd.def_
        if cmd.subtype != AT.AT_AddColumn or not isinstance(col, ast.ColumnDef):
            continue
        kinds = {c.contype for c in col.constraints or ()}
        serial = col.typeName is not None and col.typeName.names[-1].sval in _SERIAL
        if (ConstrType.CONSTR_NOTNULL in kinds or ConstrType.CONSTR_PRIMARY in kinds) \
                and not kinds & _FILLED and not serial:
            return Verdict(f"ADD COLUMN {col.colname} NOT NULL without a default fails on a table that has rows "
                           "and breaks inserts from existing clients")
    return None
