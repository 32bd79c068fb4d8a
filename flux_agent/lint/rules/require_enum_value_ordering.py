"""ALTER TYPE ... ADD VALUE without BEFORE or AFTER appends the value at the end of
the enum's sort order, which may not be the order the application expects."""
# squawk default: yes

from pglast import ast

ID = "require-enum-value-ordering"
SEVERITY = "warning"
MESSAGE = "ADD VALUE without BEFORE or AFTER appends the value at the end of the enum's sort order"
HINT = "say where the value sorts: ALTER TYPE ... ADD VALUE 'x' BEFORE 'y' (or AFTER 'y')"


def check(stmt, ctx):
    n = stmt.node
    # oldVal is set for RENAME VALUE, which keeps the position.
    return isinstance(n, ast.AlterEnumStmt) and not n.oldVal and n.newVal is not None and not n.newValNeighbor
