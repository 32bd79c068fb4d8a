"""A column the primary key INCLUDEs goes with the key when it is dropped (PostgreSQL drops the
key's constraint with it): the drop is refused, as for a key column, not planned as a plain drop."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.replay.engine import replay_sql

SCHEMA = "CREATE TABLE docs (id bigint, slug text, body text, PRIMARY KEY (id) INCLUDE (slug));"


def test_dropping_a_column_the_primary_key_includes_is_refused():
    with pytest.raises(FluxInputError, match="docs.slug is in the primary key's INCLUDE"):
        build_plan(parse_operations([{"op": "drop_column", "table": "docs", "column": "slug"}]),
                   replay_sql(SCHEMA), Settings())
    plan = build_plan(parse_operations([{"op": "drop_column", "table": "docs", "column": "body"}]),
                      replay_sql(SCHEMA), Settings())
    assert plan.steps
