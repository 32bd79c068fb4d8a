"""TRUNCATE ... CASCADE also empties every table that references the named
ones, and the tables referencing those, recursively."""
# squawk default: yes

from pglast import ast
from pglast.enums import DropBehavior

ID = "ban-truncate-cascade"
SEVERITY = "error"
MESSAGE = "TRUNCATE ... CASCADE also empties every table that references these, recursively"
HINT = "drop CASCADE and name exactly the tables to empty"


def check(stmt, ctx):
    n = stmt.node
    return isinstance(n, ast.TruncateStmt) and n.behavior == DropBehavior.DROP_CASCADE
