"""The guard a concurrent index build carries (Step.guard_sql), without a database: which steps get
one, what it says, which writers put it in the files and which cannot (their risk says what to
do instead). On PostgreSQL: tests/integration/plan/test_index_guard_pg.py and, run by the tools
themselves, tests/integration/write/test_index_build_heals_tools.py."""

from __future__ import annotations

from datetime import datetime, timezone

import pglast
import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.model.plan import LockRetry, Step
from flux_agent.model.settings import Settings
from flux_agent.plan.ops._index_guard import HEALS, drop_invalid_index_sql
from flux_agent.plan.planner import build_plan
from flux_agent.plan.summary import surface
from flux_agent.write.tools import get_writer

from shop import shop_schema

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
RETRY = LockRetry(tries=4, wait_ms=25, first_pause_ms=60, max_pause_ms=900)
ONE_QUERY = ["sql", "dbmate", "prisma", "golang-migrate"]
APART = ["goose", "flyway", "sqitch", "rails", "alembic", "knex", "typeorm", "sequelize", "node-pg-migrate"]


def _plan(ops, settings=Settings(), tool="sql"):
    return build_plan(parse_operations(ops), shop_schema(), settings, tool=tool)


def test_the_guard_drops_only_an_invalid_index_of_that_name_on_that_table():
    sql = drop_invalid_index_sql("billing.invoices", 'we"ird', RETRY, "5s")
    (stmt,) = pglast.parse_sql(sql)
    assert type(stmt.stmt).__name__ == "DoStmt"
    assert "to_regclass('billing.\"we\"\"ird\"')" in sql and "to_regclass('billing.invoices')" in sql
    assert "NOT indisvalid" in sql and 'DROP INDEX billing."we""ird";' in sql and "CONCURRENTLY" not in sql


def test_the_guard_waits_for_its_lock_as_blocking_steps_do():
    """Its DROP takes ACCESS EXCLUSIVE: each try waits wait_ms, then lets go and pauses."""
    sql = drop_invalid_index_sql("orders", "orders_user_id_idx", RETRY, "5s")
    assert "SET LOCAL lock_timeout = '25ms';" in sql and "lock_timeout = '1s'" not in sql
    assert "IF flux_try >= 4 THEN" in sql and "EXCEPTION WHEN lock_not_available" in sql
    assert "least(900, 60 * 2 ^ (flux_try - 1))" in sql
    assert "the INVALID index is still there" in sql


def test_concurrent_builds_carry_the_guard_with_the_settings_retry():
    settings = Settings(lock_timeout="3s", lock_wait_ms=25, lock_tries=4, lock_retry_pause_ms=60,
                        lock_retry_max_pause_ms=900)
    plan = _plan([{"op": "add_index", "table": "orders", "columns": ["user_id"]},
                  {"op": "add_unique", "table": "products", "columns": ["sku"]}], settings)
    build, unique, attach = plan.steps
    for step, name, table in ((build, "orders_user_id_idx", "orders"), (unique, "products_sku_key", "products")):
        assert not step.transactional and "CONCURRENTLY" in step.up_sql
        assert step.guard_sql == drop_invalid_index_sql(table, name, RETRY, Settings().statement_timeout)
        assert HEALS in step.risk
    assert attach.guard_sql is None and attach.transactional


def test_the_copies_a_rename_builds_carry_it_and_other_steps_do_not():
    plan = _plan([{"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}])
    guarded = [s for s in plan.steps if s.guard_sql]
    assert guarded and all("CREATE UNIQUE INDEX CONCURRENTLY" in s.up_sql for s in guarded)
    assert all("users_email_address_key" in s.guard_sql for s in guarded)
    assert all(s.guard_sql is None for s in plan.steps if "CREATE" not in (s.up_sql or "") or s.transactional)


def test_an_index_on_a_table_new_in_the_plan_needs_none():
    plan = _plan([{"op": "create_table", "table": "tags", "columns": [{"name": "id", "type": "bigint",
                                                                     "primary_key": True},
                                                                    {"name": "name", "type": "text"}]},
                  {"op": "add_index", "table": "tags", "columns": ["name"]}])
    assert all(s.guard_sql is None for s in plan.steps)


def test_an_old_plan_without_the_field_still_reads():
    old = {"number": 1, "phase": "migrate", "title": "t", "up_sql": "SELECT 1;", "transactional": False}
    assert Step.model_validate(old).guard_sql is None
    assert "guard_sql" in Step.model_validate(old).model_dump()


@pytest.mark.parametrize("tool", ONE_QUERY)
def test_tools_that_send_a_file_as_one_query_drop_the_guard_and_say_what_to_do(tmp_path, tool):
    writer = get_writer(tool)
    laid = writer.layout(_plan([{"op": "add_index", "table": "orders", "columns": ["user_id"]}], tool=tool),
                         tmp_path, writer.default_dir, NOW)
    (step,) = laid.steps
    assert step.guard_sql is None
    assert f"{tool} cannot drop in the same file" in step.risk and "DROP INDEX CONCURRENTLY" in step.risk
    assert "`flux" not in step.risk  # stored words: the checklist names the command for its reader
    assert f"{tool} cannot drop the INVALID index it leaves when run again: run `flux status`" in laid.summary
    with surface("tools"):
        assert "call migration_status for the exact fix" in laid.summary and "`flux" not in laid.summary
    text = "".join(j.content for j in writer.jobs(laid, tmp_path))
    assert "indisvalid" not in text


@pytest.mark.parametrize("tool", APART)
def test_tools_that_run_statements_apart_write_the_guard_before_the_build(tmp_path, tool):
    writer = get_writer(tool)
    laid = writer.layout(_plan([{"op": "add_index", "table": "orders", "columns": ["user_id"]}], tool=tool),
                         tmp_path, writer.default_dir, NOW)
    (step,) = laid.steps
    assert step.guard_sql and HEALS in step.risk and "migration_status" not in laid.summary
    text = writer.jobs(laid, tmp_path)[0].content
    assert text.index("NOT indisvalid") < text.index("CREATE INDEX CONCURRENTLY")


def test_django_and_alembic_run_the_guard_as_its_own_query(tmp_path):
    from flux_agent.write.tools.alembic import render_revision
    from flux_agent.write.tools.django import render_migration

    step = _plan([{"op": "add_index", "table": "orders", "columns": ["user_id"]}]).steps[0]
    django = render_migration(step, "shop", "0001_initial")
    assert "atomic = False" in django and "migrations.RunSQL(sql=[GUARD_SQL, UP_SQL]" in django
    alembic = render_revision(step, "aaaaaaaaaaaa", None)
    assert "        _run(GUARD_SQL)\n        _run(*UP_SQL)" in alembic


def test_the_plans_own_validation_judges_the_guard_and_finds_nothing():
    from flux_agent.lint.engine import validate_plan

    for ops in ([{"op": "add_unique", "table": "products", "columns": ["sku"]}],
                [{"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}]):
        plan = _plan(ops, tool="goose")
        assert any(s.guard_sql for s in plan.steps)
        assert validate_plan(plan, shop_schema(), Settings()) == []
    # ... and it is judged: a guard that dropped an index without CONCURRENTLY in the open would be found
    bad = plan.model_copy(deep=True)
    step = next(s for s in bad.steps if s.guard_sql)
    step.guard_sql = "DROP INDEX users_email_key;"
    assert any(f.rule == "require-concurrent-index-deletion" and f.step == step.number
               for f in validate_plan(bad, shop_schema(), Settings()))
