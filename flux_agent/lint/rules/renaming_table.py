"""ALTER TABLE ... RENAME TO: running code still uses the old name."""

from pglast import ast

from ._flux_common import renames_a_sequence
from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT

RULE = Rule(
    id="renaming-table",
    severity="error",
    message="renaming a table breaks running code that still uses the old name",
    hint=("keep the old name working (a view) while the application moves, as flux plan does; then say so: "
          "-- squawk-ignore renaming-table -- <why>"),
    squawk="default",
    nodes=(ast.RenameStmt,),
    examples=[
        flags("ALTER TABLE t RENAME TO u;"),
        flags("ALTER TABLE IF EXISTS ONLY t RENAME TO u;"),
        passes("ALTER VIEW v RENAME TO w;"),
        passes("ALTER TABLE t RENAME COLUMN a TO b;"),
        passes("ALTER TABLE auth_user_id_seq RENAME TO users_user_id_seq;", squawk_agrees=False,
               why="a sequence's name (PostgreSQL takes ALTER TABLE for any relation): defaults hold it by oid, "
                   "nothing breaks (netbox's, after Django renamed the table)"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, ast.RenameStmt) and n.renameType == OT.OBJECT_TABLE and not renames_a_sequence(n))
