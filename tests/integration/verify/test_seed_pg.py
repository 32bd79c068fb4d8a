"""verify's synthetic rows where real schemas are richer (hatchet's, 101 of its tables unfilled
before): partitioned tables filled through their parent with partition-key values their
partitions accept (RANGE, LIST, a partition made with LIKE and attached), a GENERATED ALWAYS
identity that is not the key alone, an enum whose name needs quotes, and CHECKs of ranges and of a
value ruled out. Each table read back from PostgreSQL's catalogs, as verify reads it."""

from __future__ import annotations

import psycopg

from flux_agent.schema.readers.live import read_live
from flux_agent.verify.check_values import check_choices
from flux_agent.verify.seed import seed

DDL = """
CREATE TYPE "Version" AS ENUM ('V0', 'V1', 'V2');
CREATE TABLE "Tenant" (id bigint PRIMARY KEY, version "Version" NOT NULL, priority int NOT NULL,
  CONSTRAINT "Tenant_version_not_v0" CHECK (version != 'V0'),
  CONSTRAINT "Tenant_priority_check" CHECK ((priority >= 1) AND (priority <= 4)),
  CONSTRAINT tenant_weight CHECK (priority BETWEEN 0 AND 9));
CREATE TABLE runs (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz NOT NULL DEFAULT now(),
  tenant_id bigint NOT NULL REFERENCES "Tenant", PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE runs_20261203 PARTITION OF runs FOR VALUES FROM ('2026-12-03') TO ('2026-12-04');
CREATE TABLE runs_20261204 (LIKE runs INCLUDING INDEXES);
ALTER TABLE runs ATTACH PARTITION runs_20261204 FOR VALUES FROM ('2026-12-04') TO ('2026-12-05');
CREATE TABLE events (id bigint NOT NULL, kind text NOT NULL, PRIMARY KEY (id, kind)) PARTITION BY LIST (kind);
CREATE TABLE events_ab PARTITION OF events FOR VALUES IN ('a', 'b');
CREATE TABLE events_c PARTITION OF events FOR VALUES IN ('c');
"""


def test_rich_tables_are_filled(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(DDL)
        schema = read_live(pg_url)
        result = seed(conn, schema, 100)
        assert result.notes == []
        assert result.counts["runs"] == result.counts["events"] == result.counts["Tenant"] == 100
        assert result.counts["runs_20261203"] == result.counts["runs_20261204"] == 50  # both bounds cycled
        assert result.counts["events_ab"] + result.counts["events_c"] == 100 and result.counts["events_c"] > 0
        assert conn.execute('SELECT count(*) FROM "Tenant" WHERE version = \'V0\'').fetchone()[0] == 0
        assert conn.execute('SELECT min(priority), max(priority) FROM "Tenant"').fetchone() == (1, 4)
        # the identity continues after the seeded ids
        new = conn.execute("INSERT INTO runs (at, tenant_id) VALUES ('2026-12-03 12:00', 1) RETURNING id").fetchone()
        assert new[0] == 101


def test_check_choices_read_ranges_and_exclusions(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(DDL)
    schema = read_live(pg_url)
    choices = check_choices(schema.table("Tenant"), schema)
    assert choices == {"version": ["'V1'", "'V2'"], "priority": ["1", "2", "3", "4"]}


# plane's: a project needs its workspace and may name a default state; a state needs its project;
# a workspace may name a default project. Every key is in a cycle; only nullable ones close it.
CYCLE = """
CREATE TABLE projects (id int PRIMARY KEY, workspace_id int NOT NULL, default_state_id int);
CREATE TABLE states (id int PRIMARY KEY, project_id int NOT NULL REFERENCES projects);
CREATE TABLE users (id int PRIMARY KEY);
CREATE TABLE workspaces (id int PRIMARY KEY, owner_id int NOT NULL REFERENCES users,
  default_project_id int REFERENCES projects);
ALTER TABLE projects ADD FOREIGN KEY (workspace_id) REFERENCES workspaces,
  ADD FOREIGN KEY (default_state_id) REFERENCES states;
"""


def test_a_cycle_of_keys_is_broken_where_a_key_may_be_null(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(CYCLE)
        schema = read_live(pg_url)
        assert [t.name for t in schema.tables][:2] == ["projects", "states"]  # the order that broke it
        result = seed(conn, schema, 50)
        assert result.notes == []
        assert {name: result.counts[name] for name in ("users", "workspaces", "projects", "states")} == \
            {"users": 50, "workspaces": 50, "projects": 50, "states": 50}
        # the nullable keys that closed the cycle point at rows too, NULL in every tenth row as elsewhere
        for table, column in (("workspaces", "default_project_id"), ("projects", "default_state_id")):
            assert conn.execute(f"SELECT count({column}) FROM {table}").fetchone()[0] == 45, (table, column)


def test_rows_the_migrations_put_in_are_kept_clear_of(pg_url):
    """documenso's migrations insert a service account (id 1 from its serial): verify's rows took
    ids 1..N and the table was left empty, every child of it with it."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute('CREATE TABLE "User" (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text);'
                     'CREATE TABLE "Account" (id serial PRIMARY KEY, "userId" int NOT NULL REFERENCES "User");'
                     "INSERT INTO \"User\" (email, name) VALUES ('service@example.com', 'Service Account');"
                     # and a one-to-one key whose first row the migrations made too (documenso's Organisation)
                     'CREATE TABLE "Claim" (id text PRIMARY KEY);'
                     'CREATE TABLE "Org" (id text PRIMARY KEY, "claimId" text NOT NULL UNIQUE REFERENCES "Claim");'
                     "INSERT INTO \"Claim\" VALUES ('claim_b'); INSERT INTO \"Org\" VALUES ('org_1', 'claim_b');")
        schema = read_live(pg_url)
        result = seed(conn, schema, 50)
        assert result.notes == []
        assert result.counts == {"User": 51, "Account": 50, "Claim": 51, "Org": 51}
        # the service account is still there, and the serial goes on after every id
        assert conn.execute('SELECT name FROM "User" WHERE id = 1').fetchone() == ("Service Account",)
        new = conn.execute("INSERT INTO \"User\" (email) VALUES ('new@example.com') RETURNING id").fetchone()[0]
        assert new > max(r[0] for r in conn.execute('SELECT id FROM "User" WHERE email <> %s', ("new@example.com",)))


def test_an_insert_that_adds_no_row_is_said(pg_url):
    """An INSERT that runs and adds nothing (every parent row already named by a one-to-one key, or,
    as here, a trigger that routes rows elsewhere, as old inheritance partitioning does) is a note,
    not a silent empty table."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id int PRIMARY KEY, at date NOT NULL);"
                     "CREATE FUNCTION events_route() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;"
                     "CREATE TRIGGER events_route BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_route();")
        result = seed(conn, read_live(pg_url), 10)
        assert result.counts == {"events": 0}
        assert result.notes == ["events: not filled: its INSERT added no row (a trigger that routes rows away, or "
                                "foreign keys with no parent row left to point at)"]


# saleor's customer types: one default at most (a partial unique index on a boolean), and a table
# whose key needs one of them; one row of kind 'a' at most (a CHECK's choices are cycled); a plain
# unique boolean.
PARTIAL = """
CREATE TABLE customer_types (id int PRIMARY KEY, is_default boolean NOT NULL,
  kind text NOT NULL CHECK (kind IN ('a', 'b')));
CREATE UNIQUE INDEX unique_default_customer_type ON customer_types (is_default) WHERE is_default;
CREATE UNIQUE INDEX one_of_kind_a ON customer_types (kind) WHERE kind = 'a';
CREATE TABLE attribute_customer_types (id int PRIMARY KEY, customer_type_id int NOT NULL REFERENCES customer_types);
CREATE TABLE flags (id int PRIMARY KEY, on_off boolean NOT NULL UNIQUE);
"""


def test_rows_stay_outside_partial_unique_indexes(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(PARTIAL)
        schema = read_live(pg_url)
        result = seed(conn, schema, 100)
        types = result.counts["customer_types"]
        assert 0 < types < 100, result.notes  # the rows either index refuses are left out, the others go in
        assert conn.execute("SELECT count(*) FROM customer_types WHERE is_default").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM customer_types WHERE kind = 'a'").fetchone()[0] == 0
        assert result.counts["attribute_customer_types"] == 100  # its parent rows are there now
        # A unique index without a predicate is not worked around: two booleans cannot fill 100 rows.
        assert result.counts["flags"] == 0
        assert [n for n in result.notes if n.startswith("flags: not filled")], result.notes
        assert not [n for n in result.notes if "customer_type" in n], result.notes


def test_network_range_and_array_types_are_filled(pg_url):
    """netbox's: a macaddr, an int4range[] and a NOT NULL column of the built-in ranges; an array of
    a type with no value of its own is empty ('1' was sent: "malformed array literal")."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE macs (id bigint PRIMARY KEY, mac macaddr NOT NULL UNIQUE, mac8 macaddr8 NOT NULL, "
                     "vids int4range[] NOT NULL, big int8range NOT NULL, n numrange NOT NULL, d daterange NOT NULL, "
                     "t tsrange NOT NULL, tz tstzrange NOT NULL, pts point[] NOT NULL)")
        result = seed(conn, read_live(pg_url), 50)
        assert result.notes == [] and result.counts["macs"] == 50
        row = conn.execute("SELECT count(DISTINCT mac), min(upper(vids[1]) - lower(vids[1])), "
                           "min(upper(big) - lower(big)), bool_and(cardinality(pts) = 0) FROM macs").fetchone()
        assert row == (50, 1, 1, True)


OVERLAPPING = """
CREATE TABLE workspace (id int PRIMARY KEY);
CREATE TABLE workflow (id int PRIMARY KEY, workspace_id int NOT NULL REFERENCES workspace,
  UNIQUE (id, workspace_id));
CREATE TABLE workflow_run (id int PRIMARY KEY, workspace_id int NOT NULL, workflow_id int NOT NULL,
  CONSTRAINT a_run_workflow FOREIGN KEY (workflow_id, workspace_id) REFERENCES workflow (id, workspace_id),
  CONSTRAINT b_run_workspace FOREIGN KEY (workspace_id) REFERENCES workspace);
INSERT INTO workspace SELECT generate_series(-7, -1);  -- rows the migrations made, first by id: the cycles differ
INSERT INTO workflow VALUES (-3, -1), (-2, -1), (-1, -1);
"""


def test_keys_sharing_a_column_point_at_one_consistent_parent_row(pg_url):
    """formbricks' WorkflowRun: a two-column key to (workflow, workspace) and a key to workspace share
    workspaceId. Each key took its own parent row, the second overwrote the shared column, and the pair
    named no workflow row: "not filled: violates foreign key constraint". The wider key's row decides the
    shared column; the narrower key holds by it."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(OVERLAPPING)
        result = seed(conn, read_live(pg_url), 30)
        assert result.notes == [] and result.counts["workflow_run"] == 30, result.notes


def test_a_table_with_a_generated_column_is_filled(pg_url):
    """stacks' mempool_txs computes tx_size from another column: given a value too, every insert failed
    ("cannot insert a non-DEFAULT value into column"), the table was left empty and the plan's backfill
    on it went unchecked while verify said OK."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE txs (id bigint PRIMARY KEY, raw text NOT NULL, "
                     "size integer NOT NULL GENERATED ALWAYS AS (length(raw)) STORED)")
        schema = read_live(pg_url)
        assert schema.table("txs").column("size").generated
        result = seed(conn, schema, 20)
        assert result.notes == [] and result.counts["txs"] == 20
        assert conn.execute("SELECT count(*) FROM txs WHERE size = length(raw)").fetchone()[0] == 20
