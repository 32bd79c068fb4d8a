"""A foreign key's ON UPDATE action, DEFERRABLE and MATCH FULL survive the plans that re-make the key:
documenso's Recipient.id to bigint (every Prisma relation is ON UPDATE CASCADE) lost it forward
and failed `flux verify` after the rollback ("was ... ON UPDATE CASCADE ON DELETE CASCADE; is
... ON DELETE CASCADE"), and every Django key is DEFERRABLE INITIALLY DEFERRED. The schema is
read from PostgreSQL, each definition compared as it prints it; the replay reads the same."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.schema.readers.live import read_live
from flux_agent.schema.replay.engine import replay_sql
from flux_agent.verify.runner import connect

from test_plans_pg import run_and_check
from shop import SETTINGS

pytestmark = pytest.mark.pg

DDL = """
CREATE TABLE "Recipient" (id serial PRIMARY KEY, email text NOT NULL);
CREATE TABLE "Field" (id serial PRIMARY KEY, "recipientId" int NOT NULL
  REFERENCES "Recipient"(id) ON UPDATE CASCADE ON DELETE CASCADE);
CREATE TABLE "Note" (id serial PRIMARY KEY, "recipientId" int REFERENCES "Recipient"(id) ON UPDATE SET NULL
  DEFERRABLE);
CREATE TABLE "Tag" (id serial PRIMARY KEY, "recipientId" int NOT NULL);
ALTER TABLE "Tag" ADD CONSTRAINT "Tag_recipientId_fk" FOREIGN KEY ("recipientId") REFERENCES "Recipient" (id)
  DEFERRABLE INITIALLY DEFERRED;
CREATE TABLE "Memo" (id serial PRIMARY KEY, "recipientId" int REFERENCES "Recipient"(id) MATCH FULL ON DELETE CASCADE);
INSERT INTO "Recipient" (email) SELECT 'r' || g FROM generate_series(1, 200) g;
INSERT INTO "Field" ("recipientId") SELECT 1 + g % 200 FROM generate_series(1, 400) g;
INSERT INTO "Note" ("recipientId") SELECT 1 + g % 200 FROM generate_series(1, 100) g;
INSERT INTO "Tag" ("recipientId") SELECT 1 + g % 200 FROM generate_series(1, 100) g;
INSERT INTO "Memo" ("recipientId") SELECT 1 + g % 200 FROM generate_series(1, 100) g;
"""
KEYS = """SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE contype = 'f' ORDER BY 1"""


@pytest.mark.parametrize("ops", [
    [{"op": "change_column_type", "table": "Recipient", "column": "id", "type": "bigint"}],  # the key family
    [{"op": "change_column_type", "table": "Field", "column": "recipientId", "type": "bigint"}],  # a shadow column
])
def test_on_update_is_kept_forward_and_back(pg_url, ops):
    with connect(pg_url) as conn:
        conn.execute(DDL)
        keys = conn.execute(KEYS).fetchall()
        assert [d for _, d in keys if "ON UPDATE" in d] and [d for _, d in keys if "MATCH FULL" in d]
        assert len(keys) == 4
        schema = read_live(pg_url)
        read = {(t.name, c.on_update, c.deferrable, c.match_full) for t in schema.tables for c in t.constraints
                if c.kind == "foreign_key"}
        assert read == {("Field", "CASCADE", None, False), ("Note", "SET NULL", "immediate", False),
                        ("Tag", None, "deferred", False), ("Memo", None, None, True)}
        replayed = replay_sql(DDL.split("INSERT")[0])
        assert {(t.name, c.on_update, c.deferrable, c.match_full) for t in replayed.tables for c in t.constraints
                if c.kind == "foreign_key"} == read
        plan = build_plan(parse_operations(ops), schema, SETTINGS)
        assert run_and_check(conn, plan, schema) == []  # forward, back (the catalog as before), forward
        after = conn.execute(KEYS).fetchall()
        assert [(t, d.split("REFERENCES ", 1)[1]) for t, d in after] == \
            [(t, d.split("REFERENCES ", 1)[1]) for t, d in keys]
