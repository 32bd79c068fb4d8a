"""Plans through a real PgBouncer in transaction pooling mode (the Debian package): each
transaction may land on another server connection, so no step may leave session state
behind. Every shop plan runs forward, back and forward through it with verify's checks; the
server connections keep their settings after every step; the generated SQL has no session
state (flux_agent.pg.pooler). Skipped where pgbouncer is not installed."""

from __future__ import annotations

import json
import shutil

import psycopg
import pytest
from pglast.parser import parse_sql_json

from flux_agent.entry.actions import parse_operations, plan_migration
from flux_agent.errors import FluxInputError
from flux_agent.pg import managed, pooler
from flux_agent.verify import render_report, verify
from flux_agent.verify.runner import connect, run_sql, sql_steps

from cases import CASES
from pg_roles import FAMILY_FAST, FAMILY_OPS, app_role, run_family_plan
from pgbouncer import pgbouncer, pgbouncer_binary, server_settings
from shop import SHOP, build_shop

pytestmark = pytest.mark.skipif(pgbouncer_binary() is None,
                                reason="pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)")

CORE = {"add-not-null-volatile-default", "set-not-null", "add-index", "add-unique", "add-foreign-key",
        "rename-column", "change-type-rewrite", "drop-column", "drop-table", "backfill"}
PARAMS = [pytest.param(ops, id=cid, marks=() if cid in CORE else pytest.mark.slow) for cid, ops, _ in CASES]
SETTINGS = ("lock_timeout", "statement_timeout", "search_path", "session_replication_role")
# Plans on disjoint columns, so their steps run one after another on one database.
DISJOINT = ["add-not-null-volatile-default", "set-not-null", "add-index", "add-unique", "add-foreign-key",
            "rename-column", "change-type-rewrite", "drop-table", "backfill-composite-key", "add-enum-value"]


@pytest.fixture
def shop(tmp_path):
    dest = tmp_path / "shop"
    shutil.copytree(SHOP, dest)
    return dest


@pytest.fixture(scope="module")
def role(pg_admin_url):
    with app_role(pg_admin_url, createdb=True) as r:  # a scratch database per verify, as on RDS
        yield r


@pytest.fixture(scope="module")
def bouncer(pg_admin_url, role):
    # `single`: one server connection, so the next client provably gets what the last one left
    with pgbouncer(pg_admin_url, {role.name: role.password},
                   {"single": f"dbname={role.database} pool_size=1"}) as b:
        yield b


def _ops(case_id):
    return next(ops for cid, ops, _ in CASES if cid == case_id)


def test_the_pooler_hands_session_state_to_the_next_client(bouncer, role):
    """The hazard, shown on the real pooler: a plain SET in one client's transaction is what the
    next client's transaction finds (so the checks below can fail)."""
    url = bouncer.url(role.name, role.password, "single")
    before = server_settings(url, ("statement_timeout",))
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("SET statement_timeout = '7s'")
    try:
        assert before == {"statement_timeout": "0"}
        assert server_settings(url, ("statement_timeout",)) == {"statement_timeout": "7s"}
    finally:
        with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
            conn.execute("RESET statement_timeout")


def test_no_generated_step_keeps_session_state_or_needs_a_superuser(shop):
    checked = 0
    for cid, ops, _ in CASES:
        for step in plan_migration(parse_operations(ops), str(shop)).steps:
            for sql in (step.up_sql, step.down_sql):
                if sql:
                    assert pooler.session_state(sql) == [], (cid, step.number, sql)
                    assert managed.superuser_needs(sql) == [], (cid, step.number, sql)
                    # outside a transaction: one statement, so no setting of its own can be lost between two
                    assert step.transactional or len(json.loads(parse_sql_json(sql))["stmts"]) == 1, (cid, sql)
                    checked += 1
    assert checked > 100


def test_steps_through_the_pooler_leave_the_server_connection_as_they_found_it(bouncer, role, shop):
    url = bouncer.url(role.name, role.password, "single")
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        build_shop(conn)
    baseline = server_settings(url, SETTINGS)
    ran = 0
    with connect(url) as conn:
        for cid in DISJOINT:
            plan = plan_migration(parse_operations(_ops(cid)), str(shop))
            steps = sql_steps(plan)
            for label, sql, tx in ([("forward", s.up_sql, s.transactional) for s in steps]
                                   + [("back", s.down_sql, s.transactional) for s in reversed(steps)]
                                   + [("forward again", s.up_sql, s.transactional) for s in steps]):
                if not sql:
                    continue
                run_sql(conn, sql, tx)
                ran += 1
                # the only server connection, asked by another client right after the step
                assert server_settings(url, SETTINGS) == baseline, (cid, label, sql)
    assert ran > 60
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 3000
        assert conn.execute("SELECT count(*) FROM orders WHERE public_id IS NULL").fetchone()[0] == 0


@pytest.mark.parametrize("ops", PARAMS)
def test_plan_verifies_through_pgbouncer(bouncer, role, shop, ops):
    report = verify(shop, database_url=bouncer.url(role.name, role.password, role.database), rows=100,
                    operations=ops)
    assert report.ok, render_report(report)
    assert report.database.startswith("scratch database ") and "on 127.0.0.1" in report.database
    scratch = report.database.split()[2]
    assert f"registered new auto-database: db={scratch}" in bouncer.log()  # its traffic went through PgBouncer
    plan = plan_migration(parse_operations(ops), str(shop))
    assert len(report.steps) == 3 * len(plan.steps)


def test_verify_reads_locks_through_the_pooler(bouncer, role, shop):
    # a transaction's locks are read by the server process running it, not by the pid PgBouncer reports
    report = verify(shop, database_url=bouncer.url(role.name, role.password, role.database), rows=20,
                    operations=_ops("rename-column"))
    assert report.ok, render_report(report)
    assert report.steps[0].observed_lock == "ACCESS EXCLUSIVE on users"


@pytest.mark.parametrize("settings", [{}, {"ignore_startup_parameters": "options"}], ids=["refused", "ignored"])
def test_a_scratch_schema_through_the_pooler_is_refused_not_run_elsewhere(pg_admin_url, shop, settings):
    """Without CREATEDB verify uses a scratch schema, reached by the `options` startup parameter:
    PgBouncer refuses it, or drops it when told to ignore it. Verify says so in one line
    instead of crashing or building the schema in the role's own database."""
    with app_role(pg_admin_url) as r, pgbouncer(pg_admin_url, {r.name: r.password}, {}, settings=settings) as b:
        with pytest.raises(FluxInputError, match="scratch schema .* cannot be reached .*give the role CREATEDB"):
            verify(shop, database_url=b.url(r.name, r.password, r.database), rows=10,
                   operations=_ops("add-index"))
        with psycopg.connect(r.url, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                                "('pg_catalog', 'information_schema')").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'flux_verify_%'"
                                ).fetchone()[0] == 0


@pytest.mark.slow
def test_load_through_the_pooler_loses_no_write(bouncer, role, shop):
    """Old-code and new-code traffic through the same pooler while a rename runs: no lost
    write, no failed query (the traffic's own statements are not prepared either)."""
    report = verify(shop, database_url=bouncer.url(role.name, role.password, role.database), rows=200,
                    load=True, operations=_ops("rename-column"))
    assert report.ok, render_report(report)
    assert report.lost_writes == 0 and report.traffic_errors == 0 and report.checked_writes > 50


@pytest.mark.parametrize("op", [pytest.param(op, id=k, marks=() if k in FAMILY_FAST else pytest.mark.slow)
                                for k, op in FAMILY_OPS.items()])
def test_key_families_views_and_partitions_through_pgbouncer(pg_admin_url, op):
    with app_role(pg_admin_url) as r, pgbouncer(pg_admin_url, {r.name: r.password},
                                                 {"single": f"dbname={r.database} pool_size=1"}) as b:
        url = b.url(r.name, r.password, "single")
        baseline = server_settings(url, SETTINGS)
        before, after, back, again = run_family_plan(url, op)
        assert before == after == back == again
        assert server_settings(url, SETTINGS) == baseline
