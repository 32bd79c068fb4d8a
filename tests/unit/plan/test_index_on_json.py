"""An index on a document column: on jsonb a btree index compares whole documents (Infisical's
audit_logs.actorMetadata), so the plan says what fails and what serves instead; on json there is no
btree operator class at all, so the request is refused in one line before any SQL is made."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.model.schema import Column
from flux_agent.plan.planner import build_plan
from shop import SETTINGS, shop_schema


def _plan(column: str, schema=None):
    return build_plan(parse_operations([{"op": "add_index", "table": "legacy_events", "columns": [column]}]),
                      schema or shop_schema(), SETTINGS)


def test_a_btree_index_on_jsonb_warns_what_fails_and_what_serves():
    plan = _plan("payload")
    [found] = [f for f in plan.findings if f.rule == "btree-on-jsonb"]
    assert found.severity == "warning" and "legacy_events.payload (jsonb)" in found.message and "GIN" in found.message
    assert not [f for f in _plan("kind").findings if f.rule == "btree-on-jsonb"]


def test_an_index_on_json_is_refused():
    schema = shop_schema()
    table = next(t for t in schema.tables if t.name == "legacy_events")
    table.columns.append(Column(name="raw", type="json", nullable=True))
    with pytest.raises(FluxInputError, match="legacy_events.raw is json, which a btree index cannot hold"):
        _plan("raw", schema)
