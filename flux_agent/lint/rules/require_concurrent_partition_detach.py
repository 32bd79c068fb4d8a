"""DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent table."""

from pglast import ast

from pglast.enums import AlterTableType as AT

from ._rule import FLAGGED, Rule, Verdict, flags, passes
from ._squawk_compat import existing_table_alter

RULE = Rule(
    id="require-concurrent-partition-detach",
    severity="error",
    message=("DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent table, blocking reads and "
             "writes"),
    hint=("use DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+), alone in a migration that runs outside a "
          "transaction"),
    squawk="default",
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE events DETACH PARTITION events_2020;"),
        flags("ALTER TABLE events DETACH PARTITION events_2020;", pg_version=13),
        passes("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;", transactional=False),
    ],
)


def check(stmt, ctx):
    _, cmds = existing_table_alter(stmt, ctx)
    for cmd in cmds:
        if cmd.subtype == AT.AT_DetachPartition and not getattr(cmd.def_, "concurrent", False):
            if ctx.pg_version < 14:
                return Verdict(RULE.message + "; DETACH PARTITION CONCURRENTLY needs PostgreSQL 14+")
            return FLAGGED
    return None
