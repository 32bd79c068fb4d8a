"""An expression naming a column with capitals unquoted (Dokploy's `createdAt::timestamptz`): PostgreSQL
folds it to createdat, so it is unknown, and the message says which column was meant, quoted."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.replay.engine import replay_sql

DDL = 'CREATE TABLE deployment (id bigint PRIMARY KEY, "createdAt" text NOT NULL);'


def _plan(using: str):
    op = {"op": "change_column_type", "table": "deployment", "column": "createdAt", "type": "timestamptz",
          "using": using}
    return build_plan(parse_operations([op]), replay_sql(DDL), Settings())


def test_an_unquoted_name_with_capitals_gets_the_quoted_one_offered():
    with pytest.raises(FluxInputError, match=r"unknown column 'createdat' .*did you mean \"createdAt\"\?"):
        _plan("createdAt::timestamptz")


def test_the_quoted_name_is_planned():
    assert _plan('"createdAt"::timestamptz').steps
