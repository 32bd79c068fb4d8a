"""Plans on a partitioned table, whose partitions PostgreSQL's catalogs list: an index is made
ON ONLY the parent, built concurrently on each partition and attached (PostgreSQL builds none
CONCURRENTLY on a partitioned table); column changes reach every partition; rollbacks give the
partitions' indexes back their own names. Each runs forward, back and forward again with
verify's checks, and the index stays valid, with one attached index per partition."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.plan.planner import build_plan
from flux_agent.schema.readers.live import read_live
from flux_agent.devdb.server import dev_server, find_binaries

from tests.integration.plan.test_dependents_pg import SETTINGS, database_from, run_three_ways

pytestmark = [pytest.mark.pg, pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries")]

HISTORY = ["""
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL, note text,
  PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_kind ON events (kind);
INSERT INTO events SELECT i, date '2025-06-01' + (i % 400), 'k' || (i % 7), NULL FROM generate_series(1, 500) i;
"""]


@pytest.fixture(scope="module")
def template():
    yield from database_from(HISTORY)


@pytest.fixture
def db(template):
    for _, copy in database_from([], template=template[1]):
        yield dev_server().database_url(copy)


def _indexes(conn, done: bool) -> list:
    """Each index of the partitioned table: valid or not, and how many partitions' indexes it has."""
    return conn.execute("""
        SELECT i.indisvalid, am.amname, (SELECT count(*) FROM pg_inherits h WHERE h.inhparent = i.indexrelid)
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
         WHERE i.indrelid = 'events'::regclass ORDER BY c.relname""").fetchall()


CASES = [
    ("add-index", {"op": "add_index", "table": "events", "columns": ["note"]}, 3),
    ("rename-indexed-column", {"op": "rename_column", "table": "events", "column": "kind", "new_name": "type"}, 2),
    ("retype-indexed-column", {"op": "change_column_type", "table": "events", "column": "kind",
                               "type": "varchar(20)"}, 2),
    ("drop-indexed-column", {"op": "drop_column", "table": "events", "column": "kind"}, 1),
    ("drop-partitioned-index", {"op": "drop_index", "name": "events_kind"}, 1),
    ("add-not-null-column", {"op": "add_column", "table": "events", "column": "n", "type": "bigint",
                             "nullable": False, "default": "0"}, 2),
    ("set-not-null", {"op": "set_not_null", "table": "events", "column": "note"}, 2),
    ("set-default", {"op": "set_default", "table": "events", "column": "note", "default": "'x'"}, 2),
]


@pytest.mark.slow  # all cases together ~2.2 s
@pytest.mark.parametrize("case_id, op, indexes", CASES, ids=[c[0] for c in CASES])
def test_partitioned_table_forward_back_forward(db, case_id, op, indexes):
    if op["op"] == "set_not_null":
        with __import__("psycopg").connect(db, autocommit=True) as conn:
            conn.execute("UPDATE events SET note = 'n'")
    schema = read_live(db)
    plan = build_plan(parse_operations([op]), schema, SETTINGS)
    before, after = run_three_ways(db, plan, schema, _indexes)
    assert before == [(True, "btree", 2), (True, "btree", 2)]
    assert len(after) == indexes and all(valid and attached == 2 for valid, _, attached in after), after


def test_drop_partitioned_table_rolls_back_partitioned_with_its_partitions(db):
    schema = read_live(db)
    plan = build_plan(parse_operations([{"op": "drop_table", "table": "events"}]), schema, SETTINGS)
    run_three_ways(db, plan, schema, lambda conn, done: None if done else _indexes(conn, done))


def test_unique_constraint_on_a_partitioned_table_is_refused(template):
    schema = read_live(dev_server().database_url(template[1]))
    with pytest.raises(FluxInputError, match="events is partitioned"):
        build_plan(parse_operations([{"op": "add_unique", "table": "events", "columns": ["id", "at", "kind"]}]),
                   schema, SETTINGS)


# hatchet's partitions: made with LIKE (no defaults) and attached, where the parent has defaults;
# this one also orders its columns its own way. What a change does not touch stays its own.
ATTACHED = ["""
CREATE TABLE runs (id bigint NOT NULL, at date NOT NULL DEFAULT CURRENT_DATE, state text NOT NULL DEFAULT 'new',
  note text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE runs_2025 PARTITION OF runs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE runs_2026 (note text, state text NOT NULL, at date NOT NULL, id bigint NOT NULL);
ALTER TABLE runs ATTACH PARTITION runs_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE tenants (id bigint PRIMARY KEY);
INSERT INTO runs SELECT i, date '2025-06-01' + (i % 400), 's', NULL FROM generate_series(1, 200) i;
"""]

ATTACHED_CASES = [
    ("another-table", {"op": "add_column", "table": "tenants", "column": "note", "type": "text"}),
    ("set-default", {"op": "set_default", "table": "runs", "column": "note", "default": "'x'"}),
    ("drop-default", {"op": "drop_default", "table": "runs", "column": "state"}),
    ("rename", {"op": "rename_column", "table": "runs", "column": "state", "new_name": "status"}),
    ("add-column-with-default", {"op": "add_column", "table": "runs", "column": "n", "type": "bigint",
                                 "nullable": False, "default": "0"}),
    ("drop-column", {"op": "drop_column", "table": "runs", "column": "note"}),
    ("retype", {"op": "change_column_type", "table": "runs", "column": "state", "type": "varchar(20)"}),
    ("rename-table", {"op": "rename_table", "table": "runs", "new_name": "runs2"}),  # found again by object
]


@pytest.fixture(scope="module")
def attached_template():
    yield from database_from(ATTACHED)


def _columns(conn, done: bool) -> list:
    return conn.execute("""
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relname LIKE 'runs%' AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY c.relname, a.attname""").fetchall()  # a column dropped and added back comes last


@pytest.mark.slow
@pytest.mark.parametrize("case_id, op", ATTACHED_CASES, ids=[c[0] for c in ATTACHED_CASES])
def test_an_attached_partition_keeps_what_the_change_does_not_touch(attached_template, case_id, op):
    for _, copy in database_from([], template=attached_template[1]):
        url = dev_server().database_url(copy)
        schema = read_live(url)
        assert schema.table("runs_2026").column("state").default is None  # LIKE/attach: none of its own
        plan = build_plan(parse_operations([op]), schema, SETTINGS)
        before, after = run_three_ways(url, plan, schema, _columns)  # verify's checks: planned == PostgreSQL's
        assert (before == after) == (case_id == "another-table")


# PostgreSQL takes no NOT VALID foreign key on a partitioned table (hatchet's v1_dag -> Tenant).
KEYED = ["""
CREATE TABLE accounts (id bigint PRIMARY KEY);
INSERT INTO accounts SELECT generate_series(1, 50);
CREATE TABLE visits (id bigint NOT NULL, at date NOT NULL, account_id bigint NOT NULL, PRIMARY KEY (id, at))
  PARTITION BY RANGE (at);
CREATE TABLE visits_2025 PARTITION OF visits FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE visits_2026 PARTITION OF visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY HASH (id);
CREATE TABLE visits_2026_0 PARTITION OF visits_2026 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE visits_2026_1 PARTITION OF visits_2026 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO visits SELECT i, date '2025-06-01' + (i % 400), 1 + i % 50 FROM generate_series(1, 400) i;
"""]


def _keys(conn, done: bool) -> list:
    """Each visits* table's foreign keys: validated, and attached to its parent's or not."""
    return conn.execute("""
        SELECT conrelid::regclass::text, conname, convalidated, conparentid <> 0
          FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text LIKE 'visits%' ORDER BY 1""").fetchall()


def test_a_foreign_key_on_a_partitioned_table_is_validated_on_each_partition_then_attached():
    for _, name in database_from(KEYED):
        url = dev_server().database_url(name)
        schema = read_live(url)
        op = {"op": "add_foreign_key", "table": "visits", "columns": ["account_id"], "ref_table": "accounts",
              "ref_columns": ["id"]}
        plan = build_plan(parse_operations([op]), schema, SETTINGS)
        # Flux's own validator passes the steps (squawk too: checked by hand); the key has no index
        assert [f.rule for f in plan.findings] == ["foreign-key-without-index"]
        assert not any("NOT VALID" in s.up_sql and "ALTER TABLE visits " in s.up_sql for s in plan.steps)
        before, after = run_three_ways(url, plan, schema, _keys)
        assert before == []
        # The table's key validated, each partition's (the 2026 level's made by PostgreSQL) attached to it.
        assert after == [("visits", "visits_account_id_fkey", True, False)] + [
            (p, "visits_account_id_fkey", True, True)
            for p in ("visits_2025", "visits_2026", "visits_2026_0", "visits_2026_1")]


# hatchet's v1_dag: an identity GENERATED ALWAYS, partitions with storage parameters of their own,
# a statement trigger and a policy. The drop's rollback makes all of it again.
STORED = ["""
CREATE FUNCTION jobs_seen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TABLE jobs (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL DEFAULT CURRENT_DATE,
  PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE jobs_2025 PARTITION OF jobs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
  WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.1);
CREATE TABLE jobs_2026 (LIKE jobs);
ALTER TABLE jobs_2026 SET (autovacuum_analyze_threshold = 25);
ALTER TABLE jobs ATTACH PARTITION jobs_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TRIGGER jobs_seen AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION jobs_seen();
CREATE POLICY jobs_recent ON jobs USING (at > DATE '2000-01-01');
INSERT INTO jobs (at) SELECT date '2025-06-01' + (i % 400) FROM generate_series(1, 100) i;
"""]


def test_a_dropped_partitioned_table_comes_back_as_it_was():
    for _, name in database_from(STORED):
        url = dev_server().database_url(name)
        schema = read_live(url)
        assert schema.table("jobs_2025").storage == ["fillfactor=70", "autovacuum_vacuum_scale_factor=0.1"]
        plan = build_plan(parse_operations([{"op": "drop_table", "table": "jobs"}]), schema, SETTINGS)
        # verify's checks: after the rollback the catalogs (storage, identity, trigger, policy) are as before
        run_three_ways(url, plan, schema, lambda conn, done: None)


def test_a_partition_made_after_the_plan_read_them_stops_the_attach_and_says_which(db):
    # hatchet makes a partition a day by a function: the dev database holds the one of the day it
    # was built. An index planned from it attached the known partitions' indexes and left the
    # parent index invalid in production, with nothing to say so.
    from flux_agent.verify.runner import connect, forward, sql_steps

    plan = build_plan(parse_operations([{"op": "add_index", "table": "events", "columns": ["note"]}]),
                      read_live(db), SETTINGS)
    steps = sql_steps(plan)
    with connect(db) as conn:
        conn.execute("CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')")
        forward(conn, steps[:-1])
        with pytest.raises(psycopg.errors.RaiseException, match=r"partitions of events have no index attached to "
                           r"events_note_idx: events_2027 \(made after the plan read the partitions\)"):
            forward(conn, steps[-1:])
        # Nothing was attached: the known partitions' indexes stand alone, the parent's is invalid.
        assert conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_note_idx'::regclass"
                            ).fetchone()[0] == 0
        # Built and attached by hand, the step runs and the index is valid.
        conn.execute("CREATE INDEX events_2027_note ON events_2027 (note)")
        conn.execute("ALTER INDEX events_note_idx ATTACH PARTITION events_2027_note")
        forward(conn, steps[-1:])
        assert conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_note_idx'::regclass"
                            ).fetchone()[0] is True


def test_partitions_read_from_the_migrations_are_said_to_be_theirs(db):
    # hatchet: the dev database holds the partition of the day it was built; production holds others.
    live = read_live(db)
    op = parse_operations([{"op": "add_index", "table": "events", "columns": ["note"]}])
    assert live.server is not None  # a live read: its partitions are that database's own
    assert not [f for f in build_plan(op, live, SETTINGS).findings if f.rule == "partitions-from-migrations"]
    built = build_plan(op, live.model_copy(update={"server": None}), SETTINGS)  # as the dev database gives it
    said = [f for f in built.findings if f.rule == "partitions-from-migrations"]
    assert len(said) == 1 and said[0].severity == "warning"
    assert said[0].message.startswith("the steps build the index on the partitions of events the migrations "
                                      "make (events_2025, events_2026); production's may be others")
