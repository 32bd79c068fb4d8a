"""A statement form PostgreSQL's table of forms (pg/form_table.py) has no row for on this
major version: what it locks, and whether it scans or rewrites, is unknown, so it is said,
never passed silently."""

from ...pg.forms import lookup
from ._rule import Rule, Verdict, flags, passes

RULE = Rule(
    id="unknown-statement",
    severity="warning",
    message="a statement form flux has no facts for: its lock and cost are unknown",
    hint="check the lock it takes in PostgreSQL's manual before running it on a busy table",
    squawk=None,
    examples=[
        flags("ALTER TABLE orders OF order_type;"),
        flags("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;", pg_version=13,
              why="DETACH ... CONCURRENTLY came in PostgreSQL 14"),
        passes("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;", pg_version=14, transactional=False),
        passes("ALTER TABLE orders ADD COLUMN note text;"),
        passes("SELECT 1;"),
    ],
)


def check(stmt, ctx):
    unknown = [key for key, form in lookup(stmt, ctx.pg_version) if form is None]
    if not unknown:
        return None
    return Verdict(f"{unknown[0]}: flux has no facts on what it locks on PostgreSQL {ctx.pg_version}, or whether it "
                   "scans or rewrites the table; check the manual before running it on a busy table")
