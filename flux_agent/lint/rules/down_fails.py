"""The down part of a migration fails on PostgreSQL before it undoes anything: it does not parse,
or a statement that refuses a transaction block (CREATE/DROP INDEX CONCURRENTLY, VACUUM) runs in
the transaction the tool opens for it, or in the one a query of many statements is. A rollback is
needed at the worst moment; this is where it is first read."""

import pglast
from pglast import ast

from ...pg.form_table import ROWS
from ...pg.locks import facts
from ...pg.split import SqlSyntaxError, split_statements
from ..context import FileContext, block_change
from ._rule import Rule, Verdict, flags, passes

RULE = Rule(
    id="down-fails",
    severity="error",
    message="the down part fails on PostgreSQL: the rollback would stop before it undoes anything",
    hint="fix the down SQL; a statement that cannot run in a transaction block goes in a migration that runs "
         "outside one, alone",
    squawk=None,
    examples=[
        flags("CREATE INDEX CONCURRENTLY orders_placed_idx ON orders (placed_at);",
              down_sql="SET lock_timeout = '1s';\nDROP INDEX CONCURRENTLY IF EXISTS orders_placed_idx;",
              transactional=False, one_query=True, why="golang-migrate sends the down file as one query"),
        flags("ALTER TABLE orders ADD COLUMN note text;", down_sql="ALTER TABLE orders DROPP COLUMN note;"),
        flags("ALTER TABLE orders ADD COLUMN note text;", down_sql="DROP INDEX CONCURRENTLY orders_note_idx;",
              why="the tool runs the down part in a transaction, as the up part"),
        passes("CREATE INDEX CONCURRENTLY orders_placed_idx ON orders (placed_at);",
               down_sql="DROP INDEX CONCURRENTLY IF EXISTS orders_placed_idx;", transactional=False, one_query=True,
               why="alone in its query: no transaction block"),
        passes("ALTER TABLE orders ADD COLUMN note text;", down_sql="ALTER TABLE orders DROP COLUMN note;"),
        passes("ALTER TABLE orders ADD COLUMN note text;", why="no down part"),
    ],
)

def _line(ctx: FileContext, at: int) -> int:
    return ctx.down_line + at if ctx.down_line else 1

# The last word of each form PostgreSQL refuses in a transaction block (CONCURRENTLY, VACUUM, FULL):
# a down part naming none is only asked whether it parses (most are: 0.27 s of the 2,000-file set built
# every down part's trees to ask it).
_REFUSING_WORDS = frozenset(row.key.split()[-1] for row in ROWS if row.no_transaction)


def check_file(ctx: FileContext) -> list[Verdict]:
    down = ctx.down_sql
    if not down or not down.strip():
        return []
    try:
        pglast.parser.split(down)  # (PostgreSQL's parser, no trees built)
        upper = down.upper()
        if not any(word in upper for word in _REFUSING_WORDS):
            return []
        statements = split_statements(down)
    except (pglast.parser.ParseError, SqlSyntaxError):
        try:
            split_statements(down)  # its error says what and where, as the engine's syntax-error does
        except SqlSyntaxError as exc:
            return [Verdict(f"the down part does not parse ({exc}): the rollback fails at once",
                            line=_line(ctx, exc.line))]
        return []
    # The down part runs as the up part does: in the tool's transaction, or as one query.
    in_block = ctx.transactional or (ctx.one_query and len(statements) > 1)
    out, explicit = [], False
    for stmt in statements:
        n = stmt.node
        if isinstance(n, ast.TransactionStmt):
            change = block_change(n)
            explicit = explicit if change is None else change
            continue
        if (in_block or explicit) and facts(stmt, ctx.pg_version).forbidden_in_transaction:
            out.append(Verdict(f"{_first_words(stmt.text)} cannot run in a transaction block, and the down part "
                               "runs in one: the rollback fails at this statement", line=_line(ctx, stmt.line)))
    return out

def _first_words(text: str, count: int = 3) -> str:
    return " ".join(text.split()[:count])
