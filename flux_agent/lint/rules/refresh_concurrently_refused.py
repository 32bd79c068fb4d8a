"""REFRESH MATERIALIZED VIEW CONCURRENTLY that PostgreSQL refuses: the view has no unique index it
can match rows by, or holds no rows yet."""

from __future__ import annotations

from typing import Optional

from pglast import ast

from ._flux_common import matview_at, refresh_key
from ._rule import Rule, Verdict, flags, passes

_VIEW = "CREATE TABLE orders (id bigint PRIMARY KEY, placed date NOT NULL, total numeric NOT NULL);\n" \
        "CREATE MATERIALIZED VIEW daily AS SELECT placed, sum(total) AS total FROM orders GROUP BY placed;\n"
_FIRST_REFRESH = "run the first REFRESH without CONCURRENTLY: nothing can read a view that holds no rows"

RULE = Rule(
    id="refresh-concurrently-refused",
    severity="error",
    message="REFRESH MATERIALIZED VIEW CONCURRENTLY fails here: PostgreSQL refuses it on this view",
    hint="first CREATE UNIQUE INDEX CONCURRENTLY on the view's key columns (plain columns, btree, no WHERE)",
    squawk=None,
    reads_schema=True,  # the view's indexes, and whether it was made WITH NO DATA
    nodes=(ast.RefreshMatViewStmt,),
    examples=[
        flags("REFRESH MATERIALIZED VIEW CONCURRENTLY daily;", schema_sql=_VIEW),
        flags("REFRESH MATERIALIZED VIEW CONCURRENTLY daily;",
              schema_sql=_VIEW + "CREATE UNIQUE INDEX daily_placed ON daily (placed) WHERE total > 0;\n"
                                 "CREATE UNIQUE INDEX daily_expr ON daily ((placed + 1));\n"
                                 "CREATE INDEX daily_total ON daily (total);",
              why="a partial, an expression or a non-unique index cannot match the rows"),
        flags("CREATE MATERIALIZED VIEW weekly AS SELECT placed FROM orders WITH NO DATA;\n"
              "CREATE UNIQUE INDEX weekly_placed ON weekly (placed);\n"
              "REFRESH MATERIALIZED VIEW CONCURRENTLY weekly;", schema_sql=_VIEW, hint=_FIRST_REFRESH),
        passes("REFRESH MATERIALIZED VIEW CONCURRENTLY daily;",
               schema_sql=_VIEW + "CREATE UNIQUE INDEX daily_placed ON daily (placed);"),
        passes("CREATE UNIQUE INDEX CONCURRENTLY daily_placed ON daily (placed);\n"
               "REFRESH MATERIALIZED VIEW CONCURRENTLY daily;", schema_sql=_VIEW, transactional=False),
        passes("REFRESH MATERIALIZED VIEW CONCURRENTLY elsewhere;", schema_sql=_VIEW,
               why="a view the schema does not hold: what it holds is not known"),
        passes("REFRESH MATERIALIZED VIEW CONCURRENTLY daily;", why="no schema: what the view holds is not known"),
    ],
)


def check(stmt, ctx) -> Optional[Verdict]:
    if not isinstance(stmt.node, ast.RefreshMatViewStmt) or not stmt.node.concurrent:
        return None
    view = matview_at(ctx, stmt, stmt.node.relation)
    if view is None:
        return None
    if not view.populated:
        return Verdict(f"REFRESH MATERIALIZED VIEW CONCURRENTLY fails: {view.name} was made WITH NO DATA and has "
                       f"not been refreshed since; CONCURRENTLY compares the rows it holds", hint=_FIRST_REFRESH)
    if refresh_key(view) is None:
        return Verdict(f"REFRESH MATERIALIZED VIEW CONCURRENTLY fails: {view.name} has no unique index on plain "
                       f"columns without WHERE, which it needs to match old rows to new")
    return None
