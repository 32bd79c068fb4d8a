"""Schemas read from PostgreSQL and built again by pg/ddl.schema_ddl (what `flux verify
--database-url` builds its scratch database from). A partitioned schema: the parent is partitioned
by the same key, each partition is attached with its bound, and the keys, indexes and constraints
come out as PostgreSQL had them; a plan for the partitioned table then verifies there. A foreign
key that references columns only a unique index covers (hatchet's migrations have two)."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.pg.ddl import schema_ddl
from flux_agent.schema.readers.live import read_live
from tests.conftest import scratch_database
from tests.integration.schema.test_schema_live import canon

pytestmark = pytest.mark.pg

SCHEMA = """
CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE events (
  id bigint NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id),
  happened_at timestamptz NOT NULL,
  kind text NOT NULL CHECK (kind <> ''),
  PRIMARY KEY (id, happened_at)
) PARTITION BY RANGE (happened_at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
  PARTITION BY HASH (id);
CREATE TABLE events_2026_h0 PARTITION OF events_2026 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE events_2026_h1 PARTITION OF events_2026 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE events_rest PARTITION OF events DEFAULT;
CREATE INDEX events_account_idx ON events (account_id, happened_at);
ALTER TABLE events ADD CONSTRAINT events_kind_id_key UNIQUE (kind, id, happened_at);
"""

# One level, as Flux plans index builds on partitioned tables.
FLAT = SCHEMA.replace("""
  PARTITION BY HASH (id);
CREATE TABLE events_2026_h0 PARTITION OF events_2026 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE events_2026_h1 PARTITION OF events_2026 FOR VALUES WITH (MODULUS 2, REMAINDER 1);""", ";")

PARTITIONS = """
SELECT c.relname, c.relkind, p.relname, pg_get_expr(c.relpartbound, c.oid)
  FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent
 WHERE c.relname LIKE 'events%' AND c.relkind IN ('r', 'p') ORDER BY 1"""

INDEXES = """
SELECT c.relname, i.relname, pi.relname
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
  LEFT JOIN pg_inherits h ON h.inhrelid = i.oid LEFT JOIN pg_class pi ON pi.oid = h.inhparent
 WHERE c.relname LIKE 'events%' ORDER BY 1, 2"""


@pytest.fixture
def second_db(pg_admin_url):
    with scratch_database(pg_admin_url, "flux_ddl") as url:
        yield url


def _catalog(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_a_partitioned_schema_is_built_as_postgresql_had_it(pg_url, second_db):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(SCHEMA)
    model = read_live(pg_url)
    statements = [s for s in schema_ddl(model) if not s.startswith("--")]
    with psycopg.connect(second_db, autocommit=True) as conn:
        for stmt in statements:
            conn.execute(stmt)
    partitions = _catalog(second_db, PARTITIONS)
    assert partitions == _catalog(pg_url, PARTITIONS)
    assert ("events", "p", None, None) in partitions and ("events_2026", "p", "events",
                                                         "FOR VALUES FROM ('2026-01-01 00:00:00+00') TO "
                                                         "('2027-01-01 00:00:00+00')") in partitions
    # Each partition's key and indexes are attached to the parent's, none made twice.
    assert _catalog(second_db, INDEXES) == _catalog(pg_url, INDEXES)
    assert canon(read_live(second_db)) == canon(model)
    assert _placed(second_db) == _placed(pg_url)  # each row goes to the partition it went to before


def _placed(url: str) -> list[tuple]:
    """The partition each of a few rows goes to (rolled back)."""
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO accounts VALUES (1, 'a') ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO events SELECT g, 1, timestamptz '2024-12-01' + g * interval '40 days', 'view' "
                     "FROM generate_series(1, 20) g")
        rows = conn.execute("SELECT id, tableoid::regclass::text FROM events ORDER BY id").fetchall()
        conn.rollback()
    assert len({r[1] for r in rows}) >= 4
    return rows


def test_verify_on_a_server_builds_the_partitions_the_plan_needs(pg_admin_url, tmp_path):
    """`flux verify --database-url`: the scratch database is built from the project's schema by
    schema_ddl; an index on the partitioned table is built partition by partition and attached,
    which needs the parent partitioned there as it is in the project."""
    from flux_agent.verify.report import render_report
    from flux_agent.verify.run import verify

    migrations = tmp_path / "db" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20250101000000_events.sql").write_text(
        f"-- migrate:up\n{FLAT}\n-- migrate:down\nDROP TABLE events;\nDROP TABLE accounts;\n", encoding="utf-8")
    report = verify(tmp_path, database_url=pg_admin_url, rows=50,
                    operations=[{"op": "add_index", "table": "events", "columns": ["kind"]}])
    assert report.ok, render_report(report)
    assert any("attach" in s.title for s in report.steps), [s.title for s in report.steps]


def test_a_foreign_key_onto_a_unique_index_is_built_after_the_index(pg_url, second_db):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE action (id bigint PRIMARY KEY, action_id text NOT NULL, tenant_id bigint NOT NULL);
            CREATE UNIQUE INDEX action_action_id_tenant_id_key ON action (action_id, tenant_id);
            CREATE TABLE step (id bigint PRIMARY KEY, action_id text NOT NULL, tenant_id bigint NOT NULL,
                               FOREIGN KEY (action_id, tenant_id) REFERENCES action (action_id, tenant_id));
        """)
    model = read_live(pg_url)
    with psycopg.connect(second_db, autocommit=True) as conn:
        for stmt in schema_ddl(model):
            if not stmt.startswith("--"):
                conn.execute(stmt)
    assert canon(read_live(second_db)) == canon(model)


# hatchet's uuidrange stopped `flux verify --database-url`: the model held no range, domain or
# composite type, so the scratch database could not make its tables.
TYPES = """
CREATE SCHEMA billing;
CREATE TYPE uuidrange AS RANGE (subtype = uuid);
CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE DOMAIN billing."Positive" AS integer NOT NULL DEFAULT 1 CHECK (VALUE > 0);
CREATE TYPE pair AS (a integer, "B" text);
CREATE TABLE blocks (id bigint PRIMARY KEY, ids uuidrange NOT NULL, n billing."Positive", p pair);
"""


def test_ranges_domains_and_composites_are_read_made_again_and_filled(pg_url, second_db):
    from flux_agent.schema.replay.engine import replay_sql
    from flux_agent.verify.seed import seed

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(TYPES)
    model = read_live(pg_url)
    assert [(t.name, t.kind, t.over) for t in model.types] == [
        ("uuidrange", "range", "uuid"), ("floatrange", "range", "double precision"),
        ("billing.Positive", "domain", "integer"), ("pair", "composite", None)]
    with psycopg.connect(second_db, autocommit=True) as conn:
        for stmt in schema_ddl(model):
            conn.execute(stmt)
        assert seed(conn, model, 20).counts == {"blocks": 20}
        assert conn.execute("SELECT count(*) FROM blocks WHERE NOT isempty(ids) AND n > 0").fetchone()[0] == 20
    again = read_live(second_db)
    assert canon(again) == canon(model)  # the types (in their order) and the table
    # The migrations' own statements build the same types offline.
    replayed = replay_sql(TYPES)
    assert [(t.name, t.kind, t.over) for t in replayed.types] == [(t.name, t.kind, t.over) for t in model.types]
    assert [(c.name, c.type) for c in replayed.table("blocks").columns] == \
        [(c.name, c.type) for c in model.table("blocks").columns]


# hatchet's partitions: made with LIKE (no defaults) and attached, one of them partitioned again.
ATTACHED = """
CREATE TABLE runs (id bigint NOT NULL, at date NOT NULL DEFAULT CURRENT_DATE, state text DEFAULT 'new',
  PRIMARY KEY (id, at, state)) PARTITION BY RANGE (at);
CREATE TABLE runs_2025 PARTITION OF runs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE runs_2026 (LIKE runs) PARTITION BY LIST (state);
ALTER TABLE runs_2026 ALTER COLUMN state SET NOT NULL;
CREATE TABLE runs_2026_new (LIKE runs_2026);
ALTER TABLE runs_2026 ATTACH PARTITION runs_2026_new FOR VALUES IN ('new');
ALTER TABLE runs ATTACH PARTITION runs_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
"""


def test_partitions_keep_their_own_defaults_at_every_level(pg_url, second_db):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(ATTACHED)
    model = read_live(pg_url)
    assert model.table("runs_2026_new").column("at").default is None
    with psycopg.connect(second_db, autocommit=True) as conn:
        for stmt in schema_ddl(model):
            conn.execute(stmt)
    assert canon(read_live(second_db)) == canon(model)
