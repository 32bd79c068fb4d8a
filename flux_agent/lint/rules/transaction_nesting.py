"""BEGIN / COMMIT / ROLLBACK that nest inside, or end, a transaction already open:
the one the migration tool wraps the file in, or an earlier BEGIN."""

from pglast import ast

from ._rule import Rule, Verdict, flag_if, flags, passes

RULE = Rule(
    id="transaction-nesting",
    severity="warning",
    message="BEGIN inside a transaction that is already open: PostgreSQL ignores it with a warning",
    hint="leave transaction control to the migration tool, or switch the tool's transaction off for this file",
    squawk="default",
    nodes=(ast.TransactionStmt,),
    examples=[
        flags("BEGIN;\nSELECT 1;\nCOMMIT;"),
        flags("SELECT 1;\nCOMMIT;", transactional=False),
        flags("BEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;", transactional=False),
        passes("BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;", transactional=False),
        passes("SELECT 1;"),
    ],
)

_BEGIN = ("TRANS_STMT_BEGIN", "TRANS_STMT_START")
_END = ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK")


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.TransactionStmt):
        return None
    kind = n.kind.name
    if kind in _BEGIN:
        if ctx.transactional:
            return Verdict("BEGIN inside the transaction the migration tool already wraps this file in")
        return flag_if(ctx.explicit_transaction)
    if kind in _END:
        word = "COMMIT" if kind == "TRANS_STMT_COMMIT" else "ROLLBACK"
        if ctx.transactional:
            return Verdict(f"{word} ends the transaction the migration tool wraps this file in: later statements and "
                           "the tool's own bookkeeping run outside it")
        if not ctx.explicit_transaction:
            return Verdict(f"{word} without a BEGIN: there is no transaction to end")
    return None
