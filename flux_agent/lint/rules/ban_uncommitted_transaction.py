"""A BEGIN that the file never COMMITs or ROLLs BACK: the session ends with the
transaction open, so PostgreSQL rolls the migration's work back (or the tool
runs its own bookkeeping inside the open transaction)."""
# squawk default: yes

from pglast import ast

ID = "ban-uncommitted-transaction"
SEVERITY = "error"
MESSAGE = "BEGIN is never committed or rolled back: the work after it is rolled back when the session ends"
HINT = "end the transaction with COMMIT, or drop the BEGIN and let the migration tool manage the transaction"


def check_file(ctx):
    if not ctx.explicit_transaction:  # state after the last statement
        return []
    begins = [s for s in ctx.statements if isinstance(s.node, ast.TransactionStmt)
              and s.node.kind.name in ("TRANS_STMT_BEGIN", "TRANS_STMT_START")]
    return [(begins[-1].line, MESSAGE)] if begins else []
