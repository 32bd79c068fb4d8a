"""A column's collation (pocket-id's users.username citext COLLATE "C") through a rename, a drop
and type changes: read alike from the catalogs and the replay, kept by the copy a rename or a
type change makes (the copy was made in the type's own collation, which sorts and compares
otherwise) and by an in-place type change, and restored by each rollback."""

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
CREATE TABLE users (id bigint PRIMARY KEY, username text COLLATE "C" NOT NULL UNIQUE, nick varchar(20));
ALTER TABLE users ALTER COLUMN nick TYPE varchar(30) COLLATE "C";
INSERT INTO users SELECT g, 'user' || g, 'n' || g FROM generate_series(1, 40) g;
"""


def _collations(conn, after: bool) -> list[tuple]:
    """Each column of users with its collation, and each index's collations, as the catalogs hold them."""
    cols = conn.execute("SELECT a.attname, co.collname FROM pg_attribute a LEFT JOIN pg_collation co "
                        "ON co.oid = a.attcollation WHERE a.attrelid = 'users'::regclass AND a.attnum > 0 "
                        "AND NOT a.attisdropped ORDER BY 1").fetchall()
    idx = conn.execute("SELECT indexrelid::regclass::text, indcollation::oid[]::text FROM pg_index "
                       "WHERE indrelid = 'users'::regclass ORDER BY 1").fetchall()
    return cols + idx


@pytest.mark.parametrize("op", [
    {"op": "rename_column", "table": "users", "column": "username", "new_name": "login"},
    {"op": "drop_column", "table": "users", "column": "nick"},
    {"op": "change_column_type", "table": "users", "column": "nick", "type": "text"},
    {"op": "change_column_type", "table": "users", "column": "username", "type": "varchar(100)"},
], ids=["rename", "drop", "retype in place", "retype by a copy"])
def test_a_column_s_collation_is_kept_by_a_rename_and_restored_by_a_rollback(op):
    for _, name in database_from([DDL]):
        url = dev_server().database_url(name)
        schema = read_live(url)
        users = schema.table("users")
        assert (users.column("username").collation, users.column("nick").collation) == ("C", "C")
        assert normalise_schema(replay_sql(DDL)).table("users").columns == normalise_schema(schema).table(
            "users").columns
        plan = build_plan(parse_operations([op]), schema, Settings())
        _, after = run_three_ways(url, plan, schema, _collations)
        collation = dict(c for c in after if not c[0].startswith("users_"))
        if op["op"] == "rename_column":
            assert collation["login"] == "C"
        if op["op"] == "change_column_type":
            assert collation[op["column"]] == "C"  # kept: ALTER COLUMN nick TYPE text alone would give text's own
