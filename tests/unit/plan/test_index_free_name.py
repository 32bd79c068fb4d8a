"""An index or key asked for without a name, where the name Flux gives it is taken, is named as
PostgreSQL names it then (name1, name2, ...): rallly's partial index on polls.user_id beside the
plain one was refused ("an index or constraint named 'polls_user_id_idx' already exists"), though
PostgreSQL takes `CREATE INDEX ON polls (user_id) WHERE ...` and calls it polls_user_id_idx1."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.plan.planner import build_plan

from shop import SETTINGS, shop_schema


def _plan(*ops):
    return build_plan(parse_operations(list(ops)), shop_schema(), SETTINGS)


def test_a_partial_index_beside_a_plain_one_takes_the_next_free_name():
    plan = _plan({"op": "add_index", "table": "orders", "columns": ["status"], "where": "status <> 'paid'"},
                 {"op": "add_index", "table": "orders", "columns": ["status"], "where": "status = 'new'"})
    assert [op.name for op in plan.operations] == ["orders_status_idx1", "orders_status_idx2"]
    sql = "\n".join(s.up_sql for s in plan.steps)
    assert "orders_status_idx1 ON orders" in sql and "orders_status_idx2 ON orders" in sql


def test_a_partial_unique_index_beside_the_unique_one_too():
    plan = _plan({"op": "add_index", "table": "users", "columns": ["email"], "unique": True,
                  "where": "email <> ''"})
    assert plan.operations[0].name == "users_email_key1"


def test_the_same_index_again_is_still_nothing_to_add_and_a_name_given_is_kept():
    with pytest.raises(FluxInputError, match="already has an index on \\(status\\)"):
        _plan({"op": "add_index", "table": "orders", "columns": ["status"]})
    with pytest.raises(FluxInputError, match="named 'orders_status_idx' already exists"):
        _plan({"op": "add_index", "table": "orders", "columns": ["status"], "where": "true",
               "name": "orders_status_idx"})


def test_a_second_index_on_an_expression_takes_postgresql_s_next_name():
    """Two indexes on lower(...) of one table: users_lower_idx, then users_lower_idx1, as PostgreSQL
    names them (the expression's text went into the name, parentheses and all: healthchecks')."""
    plan = _plan({"op": "add_index", "table": "users", "columns": ["lower(email)"]},
                 {"op": "add_index", "table": "users", "columns": ["lower(name)"]})
    assert [op.name for op in plan.operations] == [None, "users_lower_idx1"]
    assert [s.title for s in plan.steps] == ["build index users_lower_idx on users (lower(email))",
                                            "build index users_lower_idx1 on users (lower(name))"]
