"""A DEFERRABLE unique constraint (a position column, swapped within one transaction) through a
rename, a type change and a drop of its column: the copy's constraint was attached without
DEFERRABLE and each rollback made it again without it (swaps the application makes began to
fail), as Flux read deferrability of foreign keys only. Read alike from the catalogs and the
replay now, and kept forward, back and forward again."""

from __future__ import annotations

import pytest

from flux_agent.devdb.server import dev_server, find_binaries
from flux_agent.entry.actions import parse_operations
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.normal import normalise_schema
from flux_agent.schema.readers.live import read_live
from flux_agent.schema.replay.engine import replay_sql

from tests.integration.plan.test_dependents_pg import database_from, run_three_ways

pytestmark = [pytest.mark.pg, pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries")]

DDL = """
CREATE TABLE slots (id bigint, pos int NOT NULL, label text,
  CONSTRAINT slots_pkey PRIMARY KEY (id) DEFERRABLE,
  CONSTRAINT slots_pos_key UNIQUE (pos) DEFERRABLE INITIALLY DEFERRED);
INSERT INTO slots SELECT g, g, 'slot ' || g FROM generate_series(1, 30) g;
"""


def _keys(conn, after: bool) -> list[tuple]:
    return sorted(conn.execute("SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE conrelid = 'slots'::regclass").fetchall())


@pytest.mark.parametrize("op", [
    {"op": "rename_column", "table": "slots", "column": "pos", "new_name": "position"},
    {"op": "change_column_type", "table": "slots", "column": "pos", "type": "bigint"},
    {"op": "drop_column", "table": "slots", "column": "pos"},
], ids=["rename", "retype", "drop"])
def test_a_deferrable_unique_constraint_stays_deferrable(op):
    for _, name in database_from([DDL]):
        url = dev_server().database_url(name)
        schema = read_live(url)
        assert {c.name: c.deferrable for c in schema.table("slots").constraints} == {
            "slots_pkey": "immediate", "slots_pos_key": "deferred"}
        assert normalise_schema(replay_sql(DDL)).table("slots").constraints == normalise_schema(schema).table(
            "slots").constraints
        plan = build_plan(parse_operations([op]), schema, Settings())
        before, after = run_three_ways(url, plan, schema, _keys)
        if op["op"] != "drop_column":
            assert ("u", "UNIQUE (pos) DEFERRABLE INITIALLY DEFERRED") in before
            assert sum("DEFERRABLE INITIALLY DEFERRED" in d for _, d in after) == 1


@pytest.mark.parametrize("op", [
    {"op": "rename_column", "table": "slots", "column": "pos", "new_name": "position"},
    {"op": "change_column_type", "table": "slots", "column": "pos", "type": "bigint"},
], ids=["rename", "retype"])
def test_the_shift_a_deferred_key_allows_goes_on_until_the_contract(op):
    """hoppscotch moves an item by shifting the others' orderIndex with one UPDATE, which the deferred
    key allows; the copy's unique index, checked at once, failed that from its build to the swap. Now
    it is a DEFERRABLE constraint from the step after its build."""
    from flux_agent.verify.runner import connect, forward, sql_steps

    for _, name in database_from([DDL]):
        url = dev_server().database_url(name)
        plan = build_plan(parse_operations([op]), read_live(url), Settings())
        steps = sql_steps(plan)
        built = next(i for i, s in enumerate(steps) if s.title.startswith("build unique index"))
        with connect(url) as conn:
            forward(conn, steps[:built + 2])  # the build and the step after it
            with conn.transaction():
                conn.execute("UPDATE slots SET pos = pos + 1")
            forward(conn, steps[built + 2:])
            assert conn.execute("SELECT condeferrable, condeferred FROM pg_constraint "
                                "WHERE conrelid = 'slots'::regclass AND contype = 'u'").fetchall() == [(True, True)]
