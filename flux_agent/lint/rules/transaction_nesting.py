"""BEGIN / COMMIT / ROLLBACK that nest inside, or end, a transaction already open:
the one the migration tool wraps the file in, or an earlier BEGIN."""
# squawk default: yes

from pglast import ast

ID = "transaction-nesting"
SEVERITY = "warning"
MESSAGE = "BEGIN inside a transaction that is already open: PostgreSQL ignores it with a warning"
HINT = "leave transaction control to the migration tool, or switch the tool's transaction off for this file"

_BEGIN = ("TRANS_STMT_BEGIN", "TRANS_STMT_START")
_END = ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK")


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.TransactionStmt):
        return None
    kind = n.kind.name
    if kind in _BEGIN:
        if ctx.transactional:
            return "BEGIN inside the transaction the migration tool already wraps this file in"
        return True if ctx.explicit_transaction else None
    if kind in _END:
        word = "COMMIT" if kind == "TRANS_STMT_COMMIT" else "ROLLBACK"
        if ctx.transactional:
            return (f"{word} ends the transaction the migration tool wraps this file in: later statements and the "
                    "tool's own bookkeeping run outside it")
        if not ctx.explicit_transaction:
            return f"{word} without a BEGIN: there is no transaction to end"
    return None
