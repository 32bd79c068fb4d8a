"""ADD COLUMN whose default PostgreSQL must compute row by row (volatile function,
serial, identity, stored generated column), or any default before PostgreSQL 11:
the table is rewritten under ACCESS EXCLUSIVE."""

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType

from ...pg.parse import render
from ...pg.types import fast_default_supported, volatile_tree
from ._rule import Rule, Verdict, flags, passes
from ._squawk_compat import existing_table_alter

# No default to move out for these (maybe-finance's stored generated columns were told to "add the
# column without a default, SET DEFAULT ..."): what does spare the rewrite.
_GENERATED_HINT = ("a stored generated column is computed for every row as it is added: on a large table, add a "
                   "plain column, fill it in batches and keep it by a trigger instead, or accept the rewrite on a "
                   "small one")
_SEQUENCE_HINT = ("add the column without it, fill it from a sequence in batches, then make it the default (or an "
                  "identity: ALTER COLUMN ... ADD GENERATED ... AS IDENTITY does not rewrite)")


RULE = Rule(
    id="adding-field-with-default",
    severity="error",
    message="ADD COLUMN with a volatile default rewrites the table under ACCESS EXCLUSIVE, blocking reads and writes",
    hint="add the column without a default, SET DEFAULT for new rows, then backfill existing rows in batches",
    squawk="default",
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();"),
        flags("ALTER TABLE users ADD COLUMN seen timestamptz DEFAULT clock_timestamp();"),
        flags("ALTER TABLE users ADD COLUMN flag boolean DEFAULT false;", pg_version=10),
        flags("ALTER TABLE t ADD COLUMN total numeric GENERATED ALWAYS AS (a + b) STORED;", hint=_GENERATED_HINT),
        passes("ALTER TABLE users ADD COLUMN flag boolean DEFAULT false;"),
        passes("ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();"),
        passes("ALTER TABLE users ADD COLUMN n int DEFAULT 2 + 2;"),
        passes("CREATE TABLE t (id bigint);\nALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();",
               squawk_agrees=False, why="a table created in this migration is empty; squawk does not follow it"),
    ],
)

_SERIAL = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}


def _problem(col: ast.ColumnDef, pg_version: int):
    if col.typeName is not None and col.typeName.names[-1].sval in _SERIAL:
        return (f"ADD COLUMN {col.colname} {col.typeName.names[-1].sval} fills every row from a sequence: "
                "the table is rewritten")
    for con in col.constraints or ():
        if con.contype == ConstrType.CONSTR_IDENTITY:
            return f"ADD COLUMN {col.colname} ... AS IDENTITY fills every row from a sequence: the table is rewritten"
        if con.contype == ConstrType.CONSTR_GENERATED:
            return f"ADD COLUMN {col.colname} GENERATED ... STORED computes every row: the table is rewritten"
        if con.contype == ConstrType.CONSTR_DEFAULT and con.raw_expr is not None:
            if isinstance(con.raw_expr, ast.A_Const) and con.raw_expr.isnull:
                continue
            text = render(con.raw_expr)
            if not fast_default_supported(pg_version):
                return f"before PostgreSQL 11, ADD COLUMN {col.colname} DEFAULT {text} rewrites the whole table"
            if volatile_tree(con.raw_expr):
                return (f"ADD COLUMN {col.colname} DEFAULT {text}: a volatile default is computed for every row, "
                        "so the table is rewritten under ACCESS EXCLUSIVE")
    return None


def check(stmt, ctx):
    _, cmds = existing_table_alter(stmt, ctx)  # a table created in this migration is empty: nothing to rewrite
    for cmd in cmds:
        if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            problem = _problem(cmd.def_, ctx.pg_version)
            if problem:
                hint = _GENERATED_HINT if "GENERATED" in problem else _SEQUENCE_HINT if "sequence" in problem else None
                return Verdict(problem, hint=hint)
    return None
