"""A column's comment stays with it: a rename's or type change's copy gets it in the expand, the
contract's rollback gives the old column it again, and a dropped column's rollback re-adds it with
it. verify's catalog compares column comments, so a plan that loses one fails there (it printed OK
while `col_description` came back empty)."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.replay.engine import replay_sql
from flux_agent.verify.catalog import snapshot
from flux_agent.verify.runner import connect
from tests.integration.plan.test_dependents_pg import run_three_ways

DDL = """
CREATE TABLE users (id bigint PRIMARY KEY, bio text, age integer);
COMMENT ON COLUMN users.bio IS 'profile text, it''s shown';
COMMENT ON COLUMN public.users.age IS 'years';
COMMENT ON COLUMN users.age IS NULL;
COMMENT ON TABLE users IS 'people';
INSERT INTO users SELECT g, 'b' || g, g FROM generate_series(1, 20) g;
"""
OPS = {
    "rename": {"op": "rename_column", "table": "users", "column": "bio", "new_name": "about"},
    "retype": {"op": "change_column_type", "table": "users", "column": "bio", "type": "varchar(100)"},
    "drop": {"op": "drop_column", "table": "users", "column": "bio"},
}


def test_the_replay_keeps_a_columns_comment():
    table = replay_sql(DDL).table("users")
    assert [(c.name, c.comment) for c in table.columns] == [("id", None), ("bio", "profile text, it's shown"),
                                                            ("age", None)]


def _comments(conn) -> dict:
    return dict(conn.execute("SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a "
                             "WHERE a.attrelid = 'users'::regclass AND a.attnum > 0 AND NOT a.attisdropped"))


@pytest.mark.pg
@pytest.mark.parametrize("case", sorted(OPS))
def test_forward_back_and_forward_keep_the_comment(pg_url, case):
    schema = replay_sql(DDL)
    plan = build_plan(parse_operations([OPS[case]]), schema, Settings())
    with connect(pg_url) as conn:
        conn.execute(DDL)
    before, after = run_three_ways(pg_url, plan, schema, lambda conn, _: _comments(conn))
    assert before["bio"] == after.get({"rename": "about", "retype": "bio"}.get(case), before["bio"])
    assert before["bio"] == "profile text, it's shown"


@pytest.mark.pg
def test_verify_sees_a_lost_comment(pg_url):
    with connect(pg_url) as conn:
        conn.execute(DDL)
        before = snapshot(conn, None, None)
        conn.execute("COMMENT ON COLUMN users.bio IS NULL")
        after = snapshot(conn, None, None)
    assert before != after
