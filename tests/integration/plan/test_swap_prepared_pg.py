"""What the checklist warns of after a type-changing swap, shown on PostgreSQL: a statement the
application prepared before the swap fails on its connection with "cached plan must not change
result type", every time until the client prepares it again (here: the pool's reset, DISCARD ALL)."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.verify.runner import connect, forward

from shop import SETTINGS, build_shop, shop_schema

pytestmark = pytest.mark.pg


def test_a_statement_prepared_before_the_swap_fails_once_and_the_checklist_says_so(pg_url):
    plan = build_plan(parse_operations({"op": "change_column_type", "table": "products", "column": "stock",
                                        "type": "bigint"}), shop_schema(), SETTINGS)
    assert "cached plan must not change result type" in plan.summary
    swap = max(i for i, s in enumerate(plan.steps) if not s.is_code)
    with connect(pg_url) as conn:
        build_shop(conn)
        forward(conn, plan.steps[:swap])
    with psycopg.connect(pg_url, autocommit=True, prepare_threshold=0) as app:
        query = "SELECT stock FROM products ORDER BY id LIMIT 1"
        app.execute(query).fetchone()  # prepared on this connection
        with connect(pg_url) as conn:
            forward(conn, plan.steps[swap:])
        for _ in range(2):  # not once: every run, the client's cache still names the old statement
            with pytest.raises(psycopg.errors.FeatureNotSupported, match="cached plan must not change result type"):
                app.execute(query).fetchone()
        app.execute("DISCARD ALL")  # what a pool's reset does
        assert isinstance(app.execute(query).fetchone()[0], int)  # prepared again: it works
