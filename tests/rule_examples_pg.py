"""Rule examples run on PostgreSQL as their migration tool runs them: the proof that a rule which
says "PostgreSQL refuses this" is right (the flagged examples fail there, the others run)."""

from __future__ import annotations

import psycopg

from flux_agent.pg.split import SqlSyntaxError, split_statements


def run_as_tool(conn: psycopg.Connection, sql: str, example) -> None:
    """`sql` (an example's, or its down part) as the example's tool runs it: as one query (a query of
    many statements is one transaction), in a transaction, or statement by statement in autocommit.
    SQL that does not parse goes to PostgreSQL whole, whose parser says so too."""
    try:
        statements = split_statements(sql)
    except SqlSyntaxError:
        conn.execute(sql)
        return
    if example.one_query:
        conn.execute(sql)
    elif example.transactional:
        with conn.transaction():
            for stmt in statements:
                conn.execute(stmt.text)
    else:
        for stmt in statements:
            conn.execute(stmt.text)


def example_ids(examples) -> list[str]:
    return [f"{'flags' if e.flagged else 'passes'}-{k}" for k, e in enumerate(examples)]
