"""`flux verify` fails, naming the difference, when a plan's SQL does not do
what the plan says: a rollback that leaves an index or drops a default it
should restore, one that changes data it declares lossless, a forward run
that loses a row, leaves a backfill unfinished or makes a column other than
planned; and --load's lost-write detector fires on a sync trigger that
drops one direction of the copy."""

from __future__ import annotations

import shutil
import uuid

import pytest

from flux_agent.write.deploy_groups import PLANS_DIR, PlanRecord
from flux_agent.plan.ops import _shadow as shadow_column
from flux_agent.plan.ops import _shadow_swap as shadow_swap
from flux_agent.pg.quote import ident
from flux_agent.entry.actions import parse_operations, plan_migration
from flux_agent.verify import load, render_report, verify

from shop import SHOP

RENAME = [{"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}]


@pytest.fixture
def shop(tmp_path):
    dest = tmp_path / "shop"
    shutil.copytree(SHOP, dest)
    return dest


def _pending(project, ops, change=None):
    """Plan `ops` for the project and leave the plan, its steps changed by `change(step)`, as the pending plan."""
    plan = plan_migration(parse_operations(ops), str(project))
    if change is not None:
        plan = plan.model_copy(update={"steps": [change(s) or s for s in plan.steps]})
    record = PlanRecord(id=f"20300101000000_{uuid.uuid4().hex[:6]}", plan=plan, migrations_dir="db/migrations")
    folder = project / PLANS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{record.id}.json").write_text(record.model_dump_json(indent=2))
    return plan


def _failed_after(report, direction: str) -> str:
    assert not report.ok, render_report(report)
    assert report.failure.startswith(f"after the {direction} run: "), report.failure
    assert all(s.ok for s in report.steps), render_report(report)  # every step ran: the check found it
    assert f"PROBLEM: after the {direction} run: " in render_report(report)
    return report.failure


def _set(step, **changes):
    return step.model_copy(update=changes)


# --------------------------------------------------------------------------
# Rollbacks
# --------------------------------------------------------------------------


def test_rollback_that_leaves_the_index_fails(pg_admin_url, shop):
    _pending(shop, [{"op": "add_index", "table": "orders", "columns": ["user_id"]}],
             lambda s: _set(s, down_sql=""))
    report = verify(shop, database_url=pg_admin_url, rows=50)
    failure = _failed_after(report, "rollback")
    assert failure.startswith("after the rollback run: index orders_user_id_idx on orders is new (is: "
                              "CREATE INDEX orders_user_id_idx ON public.orders USING btree (user_id))"), failure
    assert [s.direction for s in report.steps] == ["forward", "rollback"]  # no forward-again on a broken base


def test_rollback_that_drops_the_default_it_should_restore_fails(pg_admin_url, shop):
    def drop_instead(step):
        return _set(step, down_sql=step.down_sql.replace("SET DEFAULT 'pending'", "DROP DEFAULT"))

    plan = _pending(shop, [{"op": "set_default", "table": "orders", "column": "status", "default": "'new'"}],
                    drop_instead)
    assert "DROP DEFAULT" in plan.steps[0].down_sql
    failure = _failed_after(verify(shop, database_url=pg_admin_url, rows=50), "rollback")
    assert failure == ("after the rollback run: column orders.status differs: was text NOT NULL DEFAULT "
                       "'pending'::text; is text NOT NULL")


def test_rollback_that_changes_data_it_declares_lossless_fails(pg_admin_url, shop):
    def touch(step):
        return _set(step, down_sql=step.down_sql + "\nUPDATE orders SET note = 'changed';")

    plan = _pending(shop, [{"op": "set_default", "table": "orders", "column": "status", "default": "'new'"}], touch)
    assert not any(s.data_loss_on_rollback for s in plan.steps)
    failure = _failed_after(verify(shop, database_url=pg_admin_url, rows=50), "rollback")
    assert failure == ("after the rollback run: the values of orders.note differ after the rollback from before "
                       "the plan, and the plan declares no data loss there")


def test_rollback_that_recreates_a_constraint_unvalidated_fails(pg_admin_url, shop):
    """A constraint that comes back NOT VALID is not the constraint that was there."""
    ops = [{"op": "add_column", "table": "users", "column": "referrer_id", "type": "bigint"},
           {"op": "raw_sql", "up": "ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey",
            "down": "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) "
                    "REFERENCES users (id) NOT VALID", "phase": "contract", "confirm": "test"}]
    report = verify(shop, database_url=pg_admin_url, rows=50, operations=ops)
    failure = _failed_after(report, "rollback")
    assert failure == ("after the rollback run: constraint orders_user_id_fkey on orders differs: was FOREIGN KEY "
                       "(user_id) REFERENCES users(id); is FOREIGN KEY (user_id) REFERENCES users(id) NOT VALID")


def test_what_postgresql_cannot_undo_is_a_note_not_a_failure(pg_admin_url, shop):
    report = verify(shop, database_url=pg_admin_url, rows=50,
                    operations=[{"op": "add_enum_value", "enum": "payment_method", "value": "cash"}])
    assert report.ok, render_report(report)
    assert "enum payment_method keeps 'cash': PostgreSQL cannot remove an enum value" in report.notes
    report = verify(shop, database_url=pg_admin_url, rows=50,
                    operations=[{"op": "drop_column", "table": "products", "column": "title"}])
    assert report.ok, render_report(report)
    assert any(n.startswith("column products.title comes back empty after its drop is rolled back, so NOT NULL")
               for n in report.notes), report.notes


# --------------------------------------------------------------------------
# Forward runs
# --------------------------------------------------------------------------


def test_backfill_that_skips_the_last_row_fails(pg_admin_url, shop):
    def skip_last(step):
        if step.phase == "backfill":
            assert step.up_sql.count("<= flux_stop_0") == 1
            return _set(step, up_sql=step.up_sql.replace("<= flux_stop_0", "< flux_stop_0"))

    _pending(shop, [{"op": "backfill", "table": "users", "column": "name", "value": "upper(email)"}], skip_last)
    failure = _failed_after(verify(shop, database_url=pg_admin_url, rows=60), "forward")
    assert failure.startswith("after the forward run: backfill of users.name: 1 of 60 row(s) of users do not hold "
                              "the planned value after the forward run (e.g. key (60,): name is "), failure


def test_forward_run_that_loses_a_row_fails(pg_admin_url, shop):
    def delete_one(step):
        return _set(step, up_sql=step.up_sql + "\nDELETE FROM legacy_events WHERE id = 7;")

    _pending(shop, [{"op": "add_column", "table": "legacy_events", "column": "source", "type": "text"}], delete_one)
    failure = _failed_after(verify(shop, database_url=pg_admin_url, rows=30), "forward")
    assert failure == "after the forward run: 1 row(s) of legacy_events are gone after the forward run (e.g. key (7,))"


def test_forward_run_that_makes_another_column_fails(pg_admin_url, shop):
    def narrower(step):
        return _set(step, up_sql=step.up_sql.replace("nickname text", "nickname varchar(10)"))

    plan = _pending(shop, [{"op": "add_column", "table": "users", "column": "nickname", "type": "text"}], narrower)
    assert "nickname varchar(10)" in plan.steps[0].up_sql
    failure = _failed_after(verify(shop, database_url=pg_admin_url, rows=20), "forward")
    assert failure == ("after the forward run: column users.nickname is character varying(10) after the forward "
                       "run; planned: text")


def test_type_change_that_loses_values_fails(pg_admin_url, shop):
    """The copy into the shadow column forgets a row: the converted column does not hold every value."""
    def forget_one(step):
        if step.phase == "backfill":
            return _set(step, up_sql=step.up_sql.replace("<= flux_stop_0", "< flux_stop_0"))

    plan = _pending(shop, [{"op": "change_column_type", "table": "products", "column": "stock", "type": "bigint"}],
                    forget_one)
    assert [s.phase for s in plan.steps][:2] == ["expand", "backfill"]
    report = verify(shop, database_url=pg_admin_url, rows=41)  # synthetic rows: every tenth optional value NULL
    failure = _failed_after(report, "forward")
    assert failure.startswith("after the forward run: the converted values of products.stock: 1 of 41 row(s) of "
                              "products do not hold the planned value after the forward run (e.g. key (41,): "
                              "stock is NULL, expected "), failure


# --------------------------------------------------------------------------
# --load: the lost-write detector
# --------------------------------------------------------------------------


def _without_new_to_old_copy(original):
    """sync_function_sql with the UPDATE branch that copies the new column into the old one
    doing nothing: writes of new code to the new column never reach the old one."""
    def broken(sh):
        stmts = list(original(sh))
        line = f"\n    NEW.{ident(sh.old.name)} := "  # the UPDATE branch (the INSERT branch is indented deeper)
        assert stmts[0].count(line) == 1, stmts[0]
        start = stmts[0].index(line)
        stmts[0] = stmts[0][:start] + "\n    NULL" + stmts[0][stmts[0].index(";", start):]
        return stmts
    return broken


@pytest.mark.slow
def test_lost_write_detector_fires_on_a_broken_sync_trigger(pg_admin_url, shop, monkeypatch):
    (shop / ".flux.yaml").write_text("backfill_sleep_ms: 0\n")
    broken = _without_new_to_old_copy(shadow_column.sync_function_sql)
    for module in (shadow_column, shadow_swap):  # the expand's trigger, and the one the contract's rollback makes
        monkeypatch.setattr(module, "sync_function_sql", broken)
    # New code's writes between the contract's rollback and the code deploy's are the ones lost: give
    # that window time for many of them, even on a loaded machine.
    monkeypatch.setattr(load, "OVERLAP", 1.5)
    plan = plan_migration(parse_operations(RENAME), str(shop))
    assert "NULL;" in plan.steps[0].up_sql  # the plan carries the broken trigger
    report = verify(shop, database_url=pg_admin_url, rows=200, operations=RENAME, load=True)
    assert not report.ok
    assert report.lost_writes > 0 and report.checked_writes >= report.lost_writes, render_report(report)
    assert report.failure == f"{report.lost_writes} write(s) made by the application during the plan were lost"
    # new code's writes to email_address, made while the rollback ran, never reached email
    assert all(s.startswith("after rollback: users (") and "new code wrote" in s for s in report.lost_write_samples)
    assert f"Data check: {report.lost_writes} lost write(s) of {report.checked_writes} checked" in \
        render_report(report)


# --------------------------------------------------------------------------
# A scratch schema in someone's database
# --------------------------------------------------------------------------


def test_checks_in_a_scratch_schema_see_only_its_own_objects(pg_admin_url, shop):
    """A role that may not create databases gets a scratch schema; tables of the same names in
    the database's public schema are not the plan's and do not confuse the checks."""
    import psycopg

    from conftest import _with_db

    role, db = f"flux_nocreate_{uuid.uuid4().hex[:6]}", f"flux_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
        admin.execute(f'CREATE DATABASE "{db}" OWNER "{role}"')
    info = psycopg.conninfo.conninfo_to_dict(_with_db(pg_admin_url, db))
    info.update(user=role, password="")
    url = psycopg.conninfo.make_conninfo(**{k: v for k, v in info.items() if v != ""})
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE users (id int PRIMARY KEY, email varchar(5)); INSERT INTO users VALUES (1, 'x')")
        report = verify(shop, database_url=url, rows=30, operations=RENAME + [
            {"op": "add_index", "table": "orders", "columns": ["user_id"]}])
        assert report.ok, render_report(report)
        assert report.database.startswith("scratch schema flux_verify_")
        with psycopg.connect(url, autocommit=True) as conn:  # untouched
            assert conn.execute("SELECT id, email FROM users").fetchall() == [(1, "x")]
        # and a broken rollback is still caught there
        _pending(shop, [{"op": "add_index", "table": "orders", "columns": ["user_id"]}],
                 lambda s: _set(s, down_sql=""))
        failure = _failed_after(verify(shop, database_url=url, rows=30), "rollback")
        assert failure.startswith("after the rollback run: index orders_user_id_idx on orders is new (is: CREATE "
                                  "INDEX orders_user_id_idx ON orders USING btree (user_id))"), failure
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


# --------------------------------------------------------------------------
# Each step rolled back alone and run again (the last pass)
# --------------------------------------------------------------------------


def _redo_failure(report) -> str:
    assert not report.ok, render_report(report)
    assert all(s.ok for s in report.steps[:-1]), render_report(report)
    assert report.steps[-1].direction == "forward-again"
    return report.failure


def test_a_step_that_cannot_run_again_after_its_own_rollback_fails(pg_admin_url, shop):
    """add_unique's attach step drops its index when rolled back: run again alone, it finds none. Said
    by the step (undoes_steps_before), verify runs the build again first; unsaid, verify fails."""
    unique = [{"op": "add_unique", "table": "users", "columns": ["name"]}]
    plan = _pending(shop, unique)
    assert [s.undoes_steps_before for s in plan.steps] == [0, 1]
    report = verify(shop, database_url=pg_admin_url, rows=30)
    assert report.ok, render_report(report)
    assert "each step was also rolled back alone and run again" in render_report(report)
    shutil.rmtree(shop / PLANS_DIR)
    _pending(shop, unique, lambda s: _set(s, undoes_steps_before=0))
    failure = _redo_failure(verify(shop, database_url=pg_admin_url, rows=30))
    assert failure.startswith("step 2 (migrate: attach users_name_key as a UNIQUE constraint on users) rolled back "
                              "alone, then run again, failed on step 2's forward SQL: index \"users_name_key\" does "
                              "not exist"), failure


def test_a_contract_whose_rollback_takes_the_copied_unique_index_fails(pg_admin_url, shop, monkeypatch):
    """The shadow contract's rollback before the copy's unique index was rebuilt in it."""
    from flux_agent.plan.ops import rename_column

    (shop / "db/migrations/20250301090000_unique_names.sql").write_text(
        "ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name);\n")
    monkeypatch.setattr(rename_column, "unique_copies_sql", lambda sh: [])
    _pending(shop, [{"op": "rename_column", "table": "users", "column": "name", "new_name": "full_name"}])
    failure = _redo_failure(verify(shop, database_url=pg_admin_url, rows=30))
    assert "(contract: drop users.name and the sync trigger) rolled back alone, then run again, failed on " \
           "step" in failure and "forward SQL: index \"users_full_name_key\" does not exist" in failure, failure


def test_a_step_that_breaks_inserts_relying_on_a_default_fails(pg_admin_url, shop):
    """polar's customers.short_id: bigint, DEFAULT a function giving ids like 127105199913998, planned to
    integer. The seed names every column and went in; an application's insert leaves short_id to its
    default, and from step 1 the sync trigger cast that to integer and failed. verify said OK."""
    (shop / "db/migrations/20250301090000_short_ids.sql").write_text(
        "-- migrate:up\n"
        "CREATE FUNCTION short_id() RETURNS bigint LANGUAGE sql AS $$ SELECT 127105199913998::bigint $$;\n"
        "ALTER TABLE users ADD COLUMN short_id bigint NOT NULL DEFAULT short_id();\n"
        "-- migrate:down\nALTER TABLE users DROP COLUMN short_id;\nDROP FUNCTION short_id();\n")
    retype = [{"op": "change_column_type", "table": "users", "column": "short_id", "type": "integer"}]
    for url in (None, pg_admin_url):  # the dev database's build of the history, and the model's on a server
        report = verify(shop, database_url=url, rows=30, operations=retype)
        assert not report.ok, render_report(report)
        assert report.failure.startswith("step 1 (expand: "), report.failure
        assert "an insert leaving users's columns with defaults to them fails: integer out of range" in report.failure
        assert [s.direction for s in report.steps] == ["forward"]  # stopped at the step that broke it


def test_a_check_the_plan_adds_is_no_default_broken(pg_admin_url, shop):
    """The row verify makes up (a long name) may break a CHECK the plan adds, defaults or not: that is
    no insert the defaults broke, and no failure."""
    report = verify(shop, database_url=pg_admin_url, rows=30, operations=[
        {"op": "add_check", "table": "users", "expression": "length(email) < 3"}])
    assert "defaults to them fails" not in (report.failure or ""), render_report(report)
