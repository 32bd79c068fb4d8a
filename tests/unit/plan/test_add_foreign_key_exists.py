"""add_foreign_key where the table already has that key under another name (Dokploy's Drizzle key
audit_log_user_id_user_id_fk): refused, naming the key, instead of planning a second one that
PostgreSQL would check on every write beside the first. Another key on the same columns, to
another table, is planned."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.replay.engine import replay_sql

DDL = """
CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE);
CREATE TABLE teams (id bigint PRIMARY KEY);
CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint CONSTRAINT posts_user_fk REFERENCES users ON DELETE SET NULL,
                    author text);
"""


def _plan(**op):
    return build_plan(parse_operations([{"op": "add_foreign_key", "table": "posts", **op}]), replay_sql(DDL), Settings())


def test_the_same_key_under_another_name_is_refused():
    with pytest.raises(FluxInputError, match=r"foreign key posts_user_fk already makes posts\(user_id\) reference "
                                             r"users\(id\) ON DELETE SET NULL"):
        _plan(columns=["user_id"], ref_table="users", ref_columns=["id"], on_delete="cascade")


def test_a_key_to_another_table_or_column_is_planned():
    assert _plan(columns=["user_id"], ref_table="teams", ref_columns=["id"]).steps
    assert _plan(columns=["author"], ref_table="users", ref_columns=["email"]).steps


def test_a_key_no_index_leads_with_is_warned_of():
    warned = _plan(columns=["author"], ref_table="users", ref_columns=["email"], on_delete="cascade").findings
    [finding] = [f for f in warned if f.rule == "foreign-key-without-index"]
    assert "no index of posts leads with (author)" in finding.message and "ON DELETE CASCADE" in finding.message
    indexed = replay_sql(DDL + "CREATE INDEX posts_author_id_idx ON posts (author, id);")
    plan = build_plan(parse_operations([{"op": "add_foreign_key", "table": "posts", "columns": ["author"],
                                         "ref_table": "users", "ref_columns": ["email"]}]), indexed, Settings())
    assert not [f for f in plan.findings if f.rule == "foreign-key-without-index"]
