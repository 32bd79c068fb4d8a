"""DROP DATABASE has no place in a schema migration."""
# squawk default: yes

from pglast import ast

ID = "ban-drop-database"
SEVERITY = "error"
MESSAGE = "dropping a database destroys every table in it"
HINT = "do not drop databases from a migration; do it by hand if it is really meant"


def check(stmt, ctx):
    return isinstance(stmt.node, ast.DropdbStmt)
