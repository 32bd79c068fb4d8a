"""A BEGIN that the file never COMMITs or ROLLs BACK: the session ends with the
transaction open, so PostgreSQL rolls the migration's work back (or the tool
runs its own bookkeeping inside the open transaction)."""

from ..context import block_change
from ._rule import Rule, Verdict, flags, passes

RULE = Rule(
    id="ban-uncommitted-transaction",
    severity="error",
    message="BEGIN is never committed or rolled back: the work after it is rolled back when the session ends",
    hint="end the transaction with COMMIT, or drop the BEGIN and let the migration tool manage the transaction",
    squawk="default",
    examples=[
        flags("BEGIN;\nALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;", transactional=False),
        flags("BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;", transactional=False),
        passes("BEGIN;\nALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;\nCOMMIT;", transactional=False),
        passes("START TRANSACTION;\nSELECT 1;\nROLLBACK;", transactional=False),
    ],
)


def check_file(ctx):
    if not ctx.explicit_transaction:  # state after the last statement
        return []
    begins = [s for s in ctx.statements if block_change(s.node)]
    return [Verdict(line=begins[-1].line)] if begins else []
