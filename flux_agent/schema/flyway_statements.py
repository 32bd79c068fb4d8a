"""Which statements Flyway's PostgreSQL parser runs outside a transaction: a migration holding one
runs without a transaction, as if its .conf said executeInTransaction=false (Flyway decides it from
the statements themselves: marquez's V47 CREATE INDEX CONCURRENTLY has no .conf and runs)."""

from __future__ import annotations

# Flyway's own list, not PostgreSQL's: REINDEX TABLE CONCURRENTLY, say, Flyway still runs in a
# transaction (where it fails). The words a text must hold for one of them to be there.
_WORDS = ("CONCURRENTLY", "VACUUM", "DATABASE", "TABLESPACE", "SUBSCRIPTION", "SYSTEM", "REINDEX", "DISCARD")


def runs_outside_transaction(sql: str) -> tuple[bool, bool]:
    """(whether Flyway runs this migration's SQL outside a transaction: a statement of its list is in
    it; whether other statements are there too, a mix Flyway refuses to run unless `mixed` is set)."""
    upper = sql.upper()
    if not any(word in upper for word in _WORDS):
        return False, False  # most migrations: no parse
    from ..pg import parse

    if not parse.HAVE_PGLAST:
        return False, False  # (the dev database's run without pglast: Flyway's own run says)
    from ..pg.parse import ParseError, parse_sql

    try:
        statements = parse_sql(sql)
    except ParseError:
        return False, False  # what does not parse fails either way
    outside = [flyway_runs_outside(raw.stmt) for raw in statements]
    return any(outside), any(outside) and not all(outside)


def flyway_runs_outside(node) -> bool:
    """Whether a statement is one Flyway's PostgreSQL parser runs outside a transaction."""
    from ..pg.parse import ast, enums


    if isinstance(node, ast.IndexStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.DropStmt):
        return bool(node.concurrent) and node.removeType == enums.ObjectType.OBJECT_INDEX
    if isinstance(node, ast.ReindexStmt):
        return node.kind in (enums.ReindexObjectType.REINDEX_OBJECT_SCHEMA,
                             enums.ReindexObjectType.REINDEX_OBJECT_DATABASE,
                             enums.ReindexObjectType.REINDEX_OBJECT_SYSTEM)
    if isinstance(node, ast.VacuumStmt):
        return bool(node.is_vacuumcmd)
    if isinstance(node, ast.DiscardStmt):
        return node.target == enums.DiscardMode.DISCARD_ALL
    return isinstance(node, (ast.AlterSystemStmt, ast.CreatedbStmt, ast.DropdbStmt, ast.CreateTableSpaceStmt,
                             ast.DropTableSpaceStmt, ast.CreateSubscriptionStmt, ast.DropSubscriptionStmt))
