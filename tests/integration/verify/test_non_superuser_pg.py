"""Plans run as a role without superuser that owns the tables, the way a managed PostgreSQL
(RDS, Cloud SQL, Azure, Supabase) runs them: every operation class of examples/shop forward,
back and forward again with verify's catalog and row checks, the schema built by the role
itself; a step that needs a superuser fails there and the plan's summary says so first."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from flux_agent.entry.actions import parse_operations, plan_migration
from flux_agent.verify import render_report, verify
from flux_agent.verify.seed_scope import FEW, full_tables

from cases import CASES
from conftest import _with_db, dev_server_has
from pg_roles import FAMILY_FAST, FAMILY_OPS, app_role, privileges, run_family_plan
from shop import SHOP, shop_schema

# One case per operation class that matters on a managed server; the rest of CASES run in the slow lane.
CORE = {"add-not-null-volatile-default", "set-not-null", "add-index", "add-unique", "add-foreign-key",
        "rename-column", "change-type-rewrite", "drop-column", "drop-table", "backfill"}
PARAMS = [pytest.param(ops, id=cid, marks=() if cid in CORE else pytest.mark.slow) for cid, ops, _ in CASES]


@pytest.fixture
def shop(tmp_path):
    dest = tmp_path / "shop"
    shutil.copytree(SHOP, dest)
    return dest


@pytest.fixture(scope="module")
def role(pg_admin_url):
    with app_role(pg_admin_url) as r:
        yield r


def _owners_watch(admin_url: str, database: str):
    """A progress callback that, when verify starts seeding, reads who owns the tables it built."""
    seen: dict = {"scratch": None, "owners": None}

    def progress(text: str) -> None:
        if text.startswith("created scratch schema "):
            seen["scratch"] = text.split()[3]
        elif text.startswith("seeding") and seen["scratch"]:
            with psycopg.connect(_with_db(admin_url, database), autocommit=True) as conn:
                seen["owners"] = {r[0] for r in conn.execute(
                    "SELECT tableowner FROM pg_tables WHERE schemaname = %s", (seen["scratch"],)).fetchall()}
    return progress, seen


def test_the_role_is_not_privileged(role):
    assert privileges(role.url) == (False, False, False)


@pytest.mark.parametrize("ops", PARAMS)
def test_plan_runs_as_the_owning_role(pg_admin_url, role, shop, ops):
    progress, seen = _owners_watch(pg_admin_url, role.database)
    report = verify(shop, database_url=role.url, rows=100, operations=ops, progress=progress)
    assert report.ok, render_report(report)
    plan = plan_migration(parse_operations(ops), str(shop))
    assert [s.direction for s in report.steps] == (["forward"] * len(plan.steps) + ["rollback"] * len(plan.steps)
                                                   + ["forward-again"] * len(plan.steps))
    full = full_tables(plan, shop_schema())  # the tables the plan reaches: the others get a few rows
    assert report.seeded == {t.name: 100 if full is None or t.name in full else FEW for t in shop_schema().tables}
    # the role built the schema itself (no CREATEDB: a scratch schema in its own database)
    assert report.database.startswith("scratch schema ") and seen["owners"] == {role.name}
    assert "needs a superuser" not in plan.summary


def test_plan_runs_as_a_role_with_createdb(pg_admin_url, shop):
    """RDS's master user: CREATEDB but no superuser; verify makes a scratch database the role owns."""
    ops = next(ops for cid, ops, _ in CASES if cid == "change-type-rewrite")
    with app_role(pg_admin_url, createdb=True) as r:
        assert privileges(r.url) == (False, False, True)
        report = verify(shop, database_url=r.url, rows=100, operations=ops)
    assert report.ok, render_report(report)
    assert report.database.startswith("scratch database ")


SUPERUSER_STEP = [{"op": "add_column", "table": "users", "column": "nickname", "type": "text"},
                  {"op": "raw_sql", "up": "SET LOCAL session_replication_role = replica; "
                                          "UPDATE users SET name = name WHERE id < 0",
                   "down": "SELECT 1", "phase": "migrate", "transactional": True}]


def test_a_superuser_step_fails_as_the_role_and_the_summary_says_so(pg_admin_url, role, shop):
    plan = plan_migration(parse_operations(SUPERUSER_STEP), str(shop))
    line = next(x for x in plan.summary.splitlines() if "needs a superuser" in x)
    assert line.startswith("[ ] step 2 needs a superuser") and "session_replication_role" in line
    as_role = verify(shop, database_url=role.url, rows=20, operations=SUPERUSER_STEP)
    assert not as_role.ok
    failed = as_role.steps[-1]
    assert (failed.number, failed.direction, failed.sqlstate) == (2, "forward", "42501")
    assert 'permission denied to set parameter "session_replication_role"' in failed.error
    # the same plan as the test server's superuser: the failure is the missing privilege, nothing else
    assert verify(shop, database_url=pg_admin_url, rows=20, operations=SUPERUSER_STEP).ok


def test_an_extension_outside_the_allow_lists_is_flagged(shop):
    # in the plan's SQL: the summary's checklist names it and the providers without it
    ops = [{"op": "raw_sql", "up": "SELECT create_hypertable('legacy_events', 'created_at')", "down": "SELECT 1",
            "phase": "migrate", "transactional": True}]
    summary = plan_migration(parse_operations(ops), str(shop)).summary
    assert ("[ ] extension outside a managed provider's usual allow-list: timescaledb (step 1; not on RDS, "
            "Cloud SQL)") in summary
    assert len(summary.splitlines()) <= 40
    # in the schema: verify, on a copy of the dev database that built it, notes it
    if not dev_server_has("xml2"):
        pytest.skip("the dev database server has no contrib extensions (pgserver fallback)")
    (shop / "db" / "migrations" / "20250101090500_xml2.sql").write_text(
        "-- migrate:up\nCREATE EXTENSION IF NOT EXISTS xml2;\n\n-- migrate:down\nDROP EXTENSION IF EXISTS xml2;\n")
    report = verify(shop, rows=10, operations=[{"op": "add_column", "table": "users", "column": "nickname",
                                                "type": "text"}])
    assert report.ok, render_report(report)
    assert ("the schema uses extension xml2, outside the usual allow-list of RDS, Cloud SQL, Azure, Supabase"
            in " ".join(report.notes))


@pytest.mark.parametrize("op", [pytest.param(op, id=k, marks=() if k in FAMILY_FAST else pytest.mark.slow)
                                for k, op in FAMILY_OPS.items()])
def test_key_families_views_and_partitions_as_the_owning_role(pg_admin_url, op):
    """Beyond the shop: a referenced integer key widened with its family, a viewed column retyped,
    a partitioned table's index and columns changed, all as the role that built them."""
    with app_role(pg_admin_url) as r:
        before, after, back, again = run_family_plan(r.url, op)
        assert before == after == back == again  # every row kept through forward, back and forward
        with psycopg.connect(r.url, autocommit=True) as conn:
            owners = {row[0] for row in conn.execute("SELECT DISTINCT tableowner FROM pg_tables "
                                                     "WHERE schemaname = 'public'").fetchall()}
            invalid = conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()[0]
        assert owners == {r.name} and invalid == 0
