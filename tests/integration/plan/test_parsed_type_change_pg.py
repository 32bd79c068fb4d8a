"""A type change that parses text (Dokploy's deployment.createdAt text -> timestamptz) warns that a
value which does not parse stops the backfill and fails old code's writes, with the query that finds
them; the query runs on PostgreSQL 16+ and counts exactly those values."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.replay.engine import replay_sql
from flux_agent.verify.runner import connect

DDL = """CREATE TABLE deployment (id bigint PRIMARY KEY, "createdAt" text, note varchar(20));
INSERT INTO deployment VALUES (1, '2024-01-01T00:00:00Z', 'a'), (2, 'createdAt-1', 'b'), (3, NULL, 'c');"""


def _warnings(column: str, type_: str) -> list[str]:
    op = {"op": "change_column_type", "table": "deployment", "column": column, "type": type_}
    plan = build_plan(parse_operations([op]), replay_sql(DDL), Settings())
    return [f.message for f in plan.findings if f.rule == "narrowing-type"]


def test_parsing_text_is_warned_of_and_widening_text_is_not():
    [message] = _warnings("createdAt", "timestamptz")
    assert "parses each value as the new type" in message and "pg_input_is_valid" in message
    assert _warnings("note", "text") == []


@pytest.mark.pg
def test_the_query_counts_the_values_that_do_not_parse(pg_url):
    [message] = _warnings("createdAt", "timestamptz")
    query = message.split("(PostgreSQL 16+): ", 1)[1]
    with connect(pg_url) as conn:
        if conn.info.server_version < 160000:
            pytest.skip("pg_input_is_valid is PostgreSQL 16's")
        conn.execute(DDL)
        assert conn.execute(query).fetchone()[0] == 1
