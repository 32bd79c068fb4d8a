"""A table renamed in a TypeORM project renames what TypeORM names after the table, as its own
renameTable does and its next `migration:generate` expects: the serial id's sequence
<table>_id_seq, and the indexes and keys named by its hash of the table and columns (IDX_, UQ_,
PK_). Another tool's plan leaves them; the planned schema names them as the database will, and the
plan runs forward, back and forward again."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.model.settings import Settings
from flux_agent.plan.naming import index_name, primary_key_name
from flux_agent.plan.planner import build_plan, planned_schema
from flux_agent.schema.replay.engine import replay_sql
from flux_agent.verify.check import PlanCheck
from flux_agent.verify.runner import connect, forward, rollback, sql_steps

OLD_IDX, NEW_IDX = index_name("typeorm", "tags", ["label"]), index_name("typeorm", "labels", ["label"])
OLD_PK, NEW_PK = primary_key_name("tags", ["id"]), primary_key_name("labels", ["id"])
DDL = f"""
CREATE TABLE tags (id serial NOT NULL, label text NOT NULL, CONSTRAINT "{OLD_PK}" PRIMARY KEY (id));
CREATE INDEX "{OLD_IDX}" ON tags (label);
CREATE INDEX tags_by_hand ON tags (label, id);
INSERT INTO tags (label) SELECT 'l' || g FROM generate_series(1, 20) g;
"""
RENAME = [{"op": "rename_table", "table": "tags", "new_name": "labels"}]


def _names(conn) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT relname FROM pg_class WHERE relkind IN ('i', 'S') AND relnamespace = 'public'::regnamespace")}


def test_other_tools_leave_the_names():
    plan = build_plan(parse_operations(RENAME), replay_sql(DDL), Settings(), tool="drizzle")
    assert "SEQUENCE" not in plan.steps[0].up_sql and "RENAME CONSTRAINT" not in plan.steps[0].up_sql


def test_the_planned_schema_names_them_as_typeorm_does():
    after = planned_schema(parse_operations(RENAME), replay_sql(DDL), "typeorm").table("labels")
    assert {i.name for i in after.indexes} == {NEW_IDX, NEW_PK, "tags_by_hand"}
    assert after.column("id").default == "nextval('labels_id_seq'::regclass)"


@pytest.mark.pg
def test_on_postgresql_forward_back_and_forward(pg_url):
    schema = replay_sql(DDL)
    plan = build_plan(parse_operations(RENAME), schema, Settings(), tool="typeorm")
    steps = sql_steps(plan)
    with connect(pg_url) as conn:
        conn.execute(DDL)
        before = _names(conn)
        assert before == {OLD_IDX, OLD_PK, "tags_by_hand", "tags_id_seq"}
        check = PlanCheck(conn, plan, schema)
        forward(conn, steps)
        assert check.forward_done() == []
        assert _names(conn) == {NEW_IDX, NEW_PK, "tags_by_hand", "labels_id_seq"}
        rollback(conn, steps)
        assert check.rollback_done() == []
        assert _names(conn) == before
        check.forward_starts()
        forward(conn, steps)
        assert check.forward_done() == []
