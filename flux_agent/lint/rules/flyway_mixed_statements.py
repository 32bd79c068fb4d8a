"""Flyway runs a migration holding a statement it must run outside a transaction (CREATE INDEX
CONCURRENTLY, VACUUM, ...) without one, and refuses one that mixes such a statement with others
("Detected both transactional and non-transactional statements within the same migration") unless
its configuration sets `mixed`: the deploy stops at this file, nothing of it run."""

from ...schema.flyway_statements import flyway_runs_outside
from ._rule import Rule, Verdict, flags, passes

_INDEX = "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_placed_idx ON orders (placed_at);"

RULE = Rule(
    id="flyway-mixed-statements",
    severity="error",
    message="Flyway refuses a migration mixing a statement it runs outside a transaction with others",
    hint="give the statement a migration of its own (Flyway runs it alone, outside a transaction), or set "
         "mixed=true in Flyway's configuration (then the whole migration runs without a transaction)",
    squawk=None,
    examples=[
        flags(f"SET lock_timeout = '1s';\n{_INDEX}", mixed_refused=True, transactional=False),
        passes(_INDEX, transactional=False, why="alone: Flyway runs it outside a transaction"),
        passes(f"SET lock_timeout = '1s';\n{_INDEX}", transactional=False,
               why="Flyway's configuration sets mixed=true (or another tool's file)"),
    ],
)


def check_file(ctx):
    if not ctx.mixed_refused:
        return []
    first = next((s for s in ctx.statements if s.node is not None and flyway_runs_outside(s.node)), None)
    return [Verdict(f"{' '.join(first.text.split()[:4])} runs outside a transaction in Flyway and the migration "
                    "holds other statements: Flyway refuses to run it", line=first.line)] if first else []
