"""An index or unique constraint an earlier operation of a plan builds is carried by a later one on
its column: PostgreSQL's dependency list, read before the plan, does not hold it, and a rename or
type change copied only what that list named, so the contract dropped the new key with the old
column and the renamed column was left without it."""

from __future__ import annotations

import pytest

from flux_agent.devdb.server import dev_server, find_binaries
from flux_agent.entry.actions import parse_operations
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.readers.live import read_live

from tests.integration.plan.test_dependents_pg import database_from, run_three_ways

pytestmark = [pytest.mark.pg, pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries")]

DDL = """
CREATE TABLE people (id bigint PRIMARY KEY, handle text NOT NULL, city text);
INSERT INTO people SELECT g, 'h' || g, 'c' || (g % 3) FROM generate_series(1, 30) g;
"""


def _keys(conn, after: bool) -> list[str]:
    return sorted(r[0] for r in conn.execute(
        "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'people'::regclass").fetchall())


@pytest.mark.parametrize("ops, kept", [
    ([{"op": "add_unique", "table": "people", "columns": ["handle"]},
      {"op": "rename_column", "table": "people", "column": "handle", "new_name": "username"}],
     "CREATE UNIQUE INDEX people_username_key ON public.people USING btree (username)"),
    ([{"op": "add_index", "table": "people", "columns": ["city"]},
      {"op": "change_column_type", "table": "people", "column": "city", "type": "varchar(40)"}],
     "CREATE INDEX people_city_idx ON public.people USING btree (city)"),
], ids=["unique-then-rename", "index-then-retype"])
def test_a_key_the_plan_builds_is_carried_by_its_later_operations(ops, kept):
    for _, name in database_from([DDL]):
        url = dev_server().database_url(name)
        schema = read_live(url)
        plan = build_plan(parse_operations(ops), schema, Settings())
        _, after = run_three_ways(url, plan, schema, _keys)
        assert kept in after, after
