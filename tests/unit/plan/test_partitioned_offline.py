"""A partitioned table in a schema read without PostgreSQL's catalogs (FLUX_DEVDB=off, a dev
database that cannot hold the project): the replay knows the table is partitioned but not its
partitions. What needs them is refused in one line; what does not is planned as before. (An
index was planned CREATE INDEX CONCURRENTLY on the parent, which PostgreSQL refuses there.)"""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.replay.engine import replay_sql

SCHEMA = replay_sql("""
CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE notes (id bigint PRIMARY KEY, kind text);
""")


def _plan(op: dict):
    return build_plan(parse_operations([op]), SCHEMA, Settings(), tool="sql")


@pytest.mark.parametrize("op", [
    {"op": "add_index", "table": "events", "columns": ["kind"]},
    {"op": "add_unique", "table": "events", "columns": ["id", "at"]},
    {"op": "add_foreign_key", "table": "events", "columns": ["id"], "ref_table": "notes", "ref_columns": ["id"]},
])
def test_what_needs_the_partitions_is_refused_saying_where_they_come_from(op):
    assert SCHEMA.dependencies is None and SCHEMA.table("events").partitioned
    with pytest.raises(FluxInputError, match="events is partitioned, and its partitions are known only from "
                                             "PostgreSQL's catalogs"):
        _plan(op)


def test_what_does_not_is_planned_and_a_plain_table_as_before():
    assert _plan({"op": "add_column", "table": "events", "column": "note", "type": "text"}).steps
    index = _plan({"op": "add_index", "table": "notes", "columns": ["kind"]})
    assert "CREATE INDEX CONCURRENTLY" in index.steps[0].up_sql
