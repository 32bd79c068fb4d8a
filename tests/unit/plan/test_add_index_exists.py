"""add_index asked for without a name where the table already has that index (openstreetmap's
changesets_closed_at_idx): refused as nothing to add, naming the index, not as a clash of the name
Flux would have given it. A name given (a proposed file's CREATE INDEX o_s) is planned."""

from __future__ import annotations

import re

import pytest
from shop import shop_schema

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan


def _plan(op: dict):
    return build_plan(parse_operations([{"op": "add_index", **op}]), shop_schema(), Settings(), tool="sql")


@pytest.mark.parametrize("op, says", [
    ({"table": "orders", "columns": ["status"]}, "orders already has an index on (status): orders_status_idx"),
    ({"table": "users", "columns": ["email"]}, "users already has a unique index on (email): users_email_key"),
    ({"table": "users", "columns": ["email"], "unique": True}, "a unique index on (email): users_email_key"),
])
def test_an_index_the_table_has_is_nothing_to_add(op, says):
    with pytest.raises(FluxInputError, match=re.escape(says)):
        _plan(op)


@pytest.mark.parametrize("op", [
    {"table": "orders", "columns": ["status"], "unique": True},  # a plain index does not make it unique
    {"table": "orders", "columns": ["status", "id"]},  # other columns
    {"table": "orders", "columns": ["status"], "name": "orders_by_status"},  # named: the user's to keep
    {"table": "orders", "columns": ["status"], "where": "status <> 'done'", "name": "orders_open_idx"},  # partial
])
def test_a_different_index_on_the_same_columns_is_planned(op):
    plan = _plan(op)
    assert any("CREATE" in (s.up_sql or "") and "INDEX CONCURRENTLY" in s.up_sql for s in plan.steps)


def test_a_materialized_views_index_name_and_the_view_itself_are_said_as_such():
    """A materialized view's index holds its name in the schema's one space of relations; a view is
    no table to plan on, and the refusal says which it is rather than "unknown table"."""
    from flux_agent.model.schema import Index, View

    schema = shop_schema()
    schema.views.append(View(name="daily", materialized=True, indexes=[Index(name="orders_by_status", columns=["d"])]))
    ops = parse_operations([{"op": "add_index", "table": "orders", "columns": ["status"], "name": "orders_by_status"}])
    with pytest.raises(FluxInputError, match="named 'orders_by_status' already exists"):
        build_plan(ops, schema, Settings(), tool="sql")
    ops = parse_operations([{"op": "add_index", "table": "daily", "columns": ["d"]}])
    with pytest.raises(FluxInputError, match="'daily' is a materialized view, not a table"):
        build_plan(ops, schema, Settings(), tool="sql")


def test_an_index_in_another_collation_or_counting_nulls_equal_is_not_the_one_asked_for():
    """An index on (title COLLATE "C") does not serve lookups in title's own collation, and a unique
    index whose NULLs are not distinct is not the unique index asked for: each is planned anew. One
    that only INCLUDEs more columns serves the same keys."""
    from flux_agent.schema.replay.engine import replay_sql

    schema = replay_sql("CREATE TABLE docs (id bigint PRIMARY KEY, title text, slug text, body text);\n"
                        'CREATE INDEX docs_title_c ON docs (title COLLATE "C");\n'
                        "CREATE UNIQUE INDEX docs_slug_once ON docs (slug) NULLS NOT DISTINCT;\n"
                        "CREATE INDEX docs_body_cover ON docs (body) INCLUDE (title);\n")
    for columns, unique in ((["title"], False), (["slug"], True)):
        plan = build_plan(parse_operations([{"op": "add_index", "table": "docs", "columns": columns,
                                             "unique": unique}]), schema, Settings())
        assert plan.steps, (columns, unique)
    with pytest.raises(FluxInputError, match="docs_body_cover; nothing to add"):
        build_plan(parse_operations([{"op": "add_index", "table": "docs", "columns": ["body"]}]), schema, Settings())


def test_a_unique_key_named_as_a_materialized_views_index_is_refused_or_renamed():
    """add_unique and add_index see the same names taken (add_index.name_taken): a materialized
    view's index holds its name too. Named: refused before PostgreSQL would refuse it; not named: the
    next free name, as PostgreSQL names it."""
    from flux_agent.model.schema import Index, View

    schema = shop_schema()
    schema.views.append(View(name="daily", materialized=True, indexes=[Index(name="orders_status_key", columns=["d"])]))
    ops = parse_operations([{"op": "add_unique", "table": "orders", "columns": ["status"], "name": "orders_status_key"}])
    with pytest.raises(FluxInputError, match="orders_status_key"):
        build_plan(ops, schema, Settings(), tool="sql")
    ops = parse_operations([{"op": "add_unique", "table": "orders", "columns": ["status"]}])
    sql = "\n".join(s.up_sql or "" for s in build_plan(ops, schema, Settings(), tool="sql").steps)
    assert "orders_status_key1" in sql and '"orders_status_key"' not in sql and " orders_status_key " not in sql
