"""Each step of a plan run, rolled back alone and run again, as `alembic downgrade -1` then
`upgrade +1` does: the state a step's rollback leaves must be the one its forward SQL starts from.
A rename or type change of a column in a unique constraint failed here: the contract's rollback
dropped the constraint, and the copy's unique index with it, so the contract run again found no
index to attach (hoppscotch's deferrable (userUid, parentID, orderIndex) and a plain UNIQUE alike)."""

from __future__ import annotations

import pytest

from flux_agent.devdb.server import dev_server, find_binaries
from flux_agent.entry.actions import parse_operations
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.readers.live import read_live
from flux_agent.verify.runner import connect, forward, rollback, sql_steps

from tests.integration.plan.test_dependents_pg import database_from

pytestmark = [pytest.mark.pg, pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries")]

DDL = """
CREATE TABLE slots (id int PRIMARY KEY, pos int NOT NULL, label text UNIQUE, ref int,
  CONSTRAINT slots_pos_key UNIQUE (pos) DEFERRABLE INITIALLY DEFERRED, CHECK (pos > 0));
CREATE INDEX slots_label_idx ON slots (lower(label));
CREATE TABLE notes (id bigserial PRIMARY KEY, slot_id int REFERENCES slots (id), body text);
CREATE VIEW slot_positions AS SELECT id, pos FROM slots;
INSERT INTO slots SELECT g, g, 'slot ' || g FROM generate_series(1, 30) g;
INSERT INTO notes (slot_id, body) SELECT g, 'n' FROM generate_series(1, 30) g;
"""

OPS = [
    {"op": "rename_column", "table": "slots", "column": "pos", "new_name": "position"},
    {"op": "change_column_type", "table": "slots", "column": "pos", "type": "bigint"},
    {"op": "rename_column", "table": "slots", "column": "label", "new_name": "title"},
    {"op": "change_column_type", "table": "slots", "column": "label", "type": "varchar(100)"},
    {"op": "change_column_type", "table": "slots", "column": "id", "type": "bigint"},
    {"op": "change_column_type", "table": "notes", "column": "slot_id", "type": "bigint"},
    {"op": "drop_column", "table": "slots", "column": "label"},
    {"op": "rename_table", "table": "notes", "new_name": "remarks"},
    {"op": "drop_table", "table": "notes"},
    {"op": "add_column", "table": "notes", "column": "kind", "type": "text", "nullable": False, "default": "'x'"},
    {"op": "add_foreign_key", "table": "slots", "columns": ["ref"], "ref_table": "notes", "ref_columns": ["id"]},
    {"op": "add_check", "table": "notes", "expression": "length(body) < 10"},
    {"op": "set_not_null", "table": "notes", "column": "body"},
    {"op": "drop_index", "name": "slots_label_idx"},
    {"op": "add_unique", "table": "notes", "columns": ["slot_id"]},
]


def _catalog(conn) -> list[tuple]:
    return conn.execute("""
        SELECT c.relname, c.relkind, coalesce(pg_get_indexdef(i.indexrelid), ''),
               ARRAY(SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k WHERE k.conrelid = c.oid ORDER BY 1)
          FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i', 'v') ORDER BY 1""").fetchall()


@pytest.mark.parametrize("op", OPS, ids=lambda o: f"{o['op']}-{o.get('column', o.get('table', o.get('name')))}")
def test_each_step_rolled_back_alone_runs_again(op):
    for _, name in database_from([DDL]):
        url = dev_server().database_url(name)
        plan = build_plan(parse_operations([op]), read_live(url), Settings())
        with connect(url) as conn:
            steps = sql_steps(plan)
            for i, step in enumerate(steps):
                forward(conn, [step])
                if step.down_sql:
                    after = _catalog(conn)
                    again = steps[i - step.undoes_steps_before:i + 1]  # as the step says
                    rollback(conn, again)
                    forward(conn, again)
                    assert _catalog(conn) == after, f"step {step.number} ({step.title}) run again differs"
