"""`flux status` on a real PostgreSQL: a plan written for the shop, its files run one by one as a
migration tool would, and failures forced the way production meets them (a concurrent index
build cancelled half-way, a deploy not made yet): status names each step's state from the
catalogs, the failed step and the exact command that finishes it, and after that command and the
step run again, the plan reads as applied."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest
from shop import ROOT, build_shop

from flux_agent.entry import actions as tools
from flux_agent.entry.cli import main
from flux_agent.schema.migration_files import up_section
from flux_agent.status.project import project_status

pytestmark = pytest.mark.pg


@pytest.fixture
def project(tmp_path):
    dst = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", dst)
    return dst


@pytest.fixture
def db(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        build_shop(conn)  # the shop's migrations and its seeded rows
    return pg_url


def _write(project, words: str):
    from flux_agent.nl.parser import parse_request

    ops = parse_request(words, tools.read_schema(str(project)))
    plan = tools.plan_migration(ops, str(project))
    return tools.write_migration(plan, str(project)).plan


def _run(url: str, project, step) -> None:
    """A step's files as its tool runs them: each file's up section, in a transaction unless the
    step is non-transactional (autocommit, one statement at a time)."""
    for name in step.files:
        path = project / name
        _, sql = up_section(path, path.read_text())
        with psycopg.connect(url, autocommit=not step.transactional) as conn:
            conn.execute(sql)


def _states(report) -> dict[int, str]:
    return {s.number: s.state for s in report.plans[0].steps}


def test_without_a_database_status_reads_the_records(project):
    plan = _write(project, "rename column users.email to email_address")
    report = project_status(project)
    states = _states(report)
    deploy = next(s.number for s in plan.steps if s.is_code)
    assert all(states[n] == "written" for n in range(1, deploy)) and states[deploy] == "deploy"
    assert all(states[n] == "not written" for n in states if n > deploy)
    assert "flux continue" in report.plans[0].next and report.database is None


def test_steps_run_one_by_one_read_as_applied_and_a_deploy_is_the_next_action(project, db):
    plan = _write(project, "rename column users.email to email_address")
    deploy = next(s.number for s in plan.steps if s.is_code)
    before = _states(project_status(project, db))
    assert before[1] == "not applied" and before[2] == "unknown" and before[deploy] == "deploy"  # 2: a backfill
    for step in plan.steps[:deploy - 1]:
        _run(db, project, step)
    with psycopg.connect(db, autocommit=True) as conn:  # as dbmate records what it ran
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY)")
        conn.execute("INSERT INTO schema_migrations SELECT left(f, 14) FROM unnest(%s::text[]) f",
                     [[Path(f).name for f in plan.steps[0].files]])
    report = project_status(project, db)
    assert all(_states(report)[n] == "applied" for n in range(1, deploy))
    evidence = report.plans[0].steps
    assert any("is recorded as run" in e for e in evidence[0].evidence)
    assert any("is not recorded as run" in e for e in evidence[1].evidence)
    assert report.plans[0].next.startswith(f"Deploy the application change of step {deploy}")
    assert "email_address" in " ".join(report.plans[0].steps[0].evidence)


def test_a_concurrent_index_build_cancelled_half_way_is_named_with_its_fix(project, db):
    plan = _write(project, "add an index on orders.user_id")
    step = plan.steps[0]
    assert not step.transactional and "CONCURRENTLY" in step.up_sql
    holder = psycopg.connect(db)  # an open transaction that has written to orders: the build waits for it
    holder.execute("UPDATE orders SET note = note WHERE id = 1")
    try:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("SET statement_timeout = '300ms'")
            with pytest.raises(psycopg.errors.QueryCanceled):
                _, sql = up_section(project / step.files[0], (project / step.files[0]).read_text())
                conn.execute(sql)
    finally:
        holder.close()
    report = project_status(project, db)
    status = report.plans[0].steps[0]
    assert status.state == "failed half-way" and "INVALID" in " ".join(status.evidence)
    assert status.fix.startswith("DROP INDEX CONCURRENTLY IF EXISTS orders_user_id_idx;")
    assert report.plans[0].next.startswith("Finish step 1: DROP INDEX CONCURRENTLY")
    # The step alone would skip the INVALID index (IF NOT EXISTS): the fix first, then the step.
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(status.fix.split(" then ")[0])
    _run(db, project, step)
    report = project_status(project, db)
    assert _states(report) == {1: "applied"} and report.plans[0].next.startswith("Nothing left")


def test_the_cli_prints_the_states_and_the_next_action_read_only(project, db, capsys):
    _write(project, "add an index on orders.user_id")
    assert main(["status", "--project", str(project), "--database-url", db, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["plans"][0]["steps"][0]["state"] == "not applied" and "password" not in json.dumps(out)
    assert main(["status", "--project", str(project), "--database-url", db]) == 0
    text = capsys.readouterr().out
    assert "step 1" in text and "not applied" in text and "Next: Run step 1" in text
    with psycopg.connect(db) as conn:  # status wrote nothing
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_user_id_idx'").fetchone()[0] == 0


def test_no_plan_and_an_unreachable_database_are_one_line_each(project, capsys):
    assert main(["status", "--project", str(project)]) == 2
    assert "no plan in .flux/plans/" in capsys.readouterr().err
    _write(project, "add an index on orders.user_id")
    assert main(["status", "--project", str(project), "--database-url", "postgresql://nobody@127.0.0.1:1/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flux: cannot read the database") and err.count("\n") == 1


def test_a_backfill_killed_after_some_batches_is_counted_and_resumes_where_it_stopped(project, db):
    (project / ".flux.yaml").write_text("backfill_batch_size: 500\nbackfill_sleep_ms: 100\n")
    op = {"op": "add_column", "table": "orders", "column": "ref", "type": "text", "default": "md5(random()::text)"}
    plan = tools.write_migration(tools.plan_migration(tools.parse_operations(op), str(project)), str(project)).plan
    expand, fill = plan.steps[0], plan.steps[1]
    assert fill.batching is not None and fill.batching.pending == 'ref IS NULL'
    _run(db, project, expand)
    with psycopg.connect(db, autocommit=True) as conn:  # killed after a few of its ten batches
        conn.execute("SET statement_timeout = '450ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute(up_section(project / fill.files[0], (project / fill.files[0]).read_text())[1])
        left = conn.execute("SELECT count(*) FROM orders WHERE ref IS NULL").fetchone()[0]
    assert 0 < left < 5000
    report = project_status(project, db)
    status = report.plans[0].steps[1]
    assert status.state == "not applied" and f"{left:,} row(s) of orders still to do" in status.evidence
    assert report.plans[0].next.startswith("Run step 2") and "resumes" in report.plans[0].next
    batches = []
    with psycopg.connect(db, autocommit=True) as conn:  # run again: only the rows left are walked
        conn.add_notice_handler(lambda d: batches.append(d.message_primary))
        conn.execute(up_section(project / fill.files[0], (project / fill.files[0]).read_text())[1])
        assert conn.execute("SELECT count(*) FROM orders WHERE ref IS NULL").fetchone()[0] == 0
    totals = [int(m.rsplit(": ", 1)[1].split()[0]) for m in batches]
    # every batch does rows left to do: none walks the rows the killed run finished (0 rows updated)
    assert totals[0] > 0 and all(a < b for a, b in zip(totals, totals[1:])) and totals[-1] == left
    assert _states(project_status(project, db))[2] == "applied"


def _back(url: str, step) -> None:
    with psycopg.connect(url, autocommit=not step.transactional) as conn:
        conn.execute(step.down_sql)


def test_steps_rolled_back_between_deploys_read_as_not_applied_and_run_again_to_the_same_data(project, db):
    plan = _write(project, "rename column users.email to email_address")
    deploy = next(s.number for s in plan.steps if s.is_code)
    for step in plan.steps[:deploy - 1]:
        _run(db, project, step)
    for step in reversed(plan.steps[3:deploy - 1]):  # the release is rolled back: steps 4.. undone
        if step.down_sql:
            _back(db, step)
    report = project_status(project, db)
    states = _states(report)
    assert [states[n] for n in (1, 2, 3)] == ["applied"] * 3
    assert all(states[n] == "not applied" for n in range(4, deploy) if plan.steps[n - 1].down_sql)
    assert report.plans[0].next.startswith("Run step 4")
    for step in plan.steps[3:deploy - 1]:
        _run(db, project, step)
    assert all(_states(project_status(project, db))[n] == "applied" for n in range(1, deploy))
    with psycopg.connect(db) as conn:
        differ = conn.execute("SELECT count(*) FROM users WHERE email_address IS DISTINCT FROM email").fetchone()[0]
        nulls = conn.execute("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass "
                             "AND attname = 'email_address'").fetchone()[0]
    assert differ == 0 and nulls


def test_a_guarded_build_cancelled_half_way_is_finished_by_running_its_step_again(project, db):
    """A tool that runs a non-transactional file statement by statement (goose here) gets the
    guard in the file: status's fix is the step itself, and the step run again heals the index."""
    from flux_agent.pg.split import cut_statements
    from flux_agent.plan.planner import build_plan
    from flux_agent.write.deploy_groups import write_first
    from shop import SETTINGS, shop_schema

    ops = tools.parse_operations([{"op": "add_index", "table": "orders", "columns": ["user_id"]}])
    plan = write_first(build_plan(ops, shop_schema(), SETTINGS, tool="goose"), project, "db/goose").plan
    step = plan.steps[0]
    assert step.guard_sql and step.files[0].endswith(".sql")
    holder = psycopg.connect(db)
    holder.execute("UPDATE orders SET note = note WHERE id = 1")
    try:
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("SET statement_timeout = '300ms'")
            conn.execute(step.guard_sql)
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute(step.up_sql)
    finally:
        holder.close()
    status = project_status(project, db).plans[0].steps[0]
    assert status.state == "failed half-way"
    assert status.fix.startswith("run step 1 again") and "orders_user_id_idx" in status.fix
    path = project / step.files[0]
    _, sql = up_section(path, path.read_text())
    with psycopg.connect(db, autocommit=True) as conn:  # as goose runs a NO TRANSACTION file
        for statement in cut_statements(sql):
            conn.execute(statement)
    assert _states(project_status(project, db)) == {1: "applied"}


def test_a_migration_tool_that_runs_nothing_until_put_right_comes_first(tmp_path, pg_url):
    """golang-migrate marks a version dirty when its migration failed part-way and runs no migration
    until `migrate force`; Flyway keeps a failed row until `flyway repair`. Status said "Run step 1
    with the project's migration tool", which would only fail again: the tool's state comes first."""
    from flux_agent.project.applied import tool_blocked

    project = tmp_path / "app"
    (project / "migrations").mkdir(parents=True)
    (project / "migrations" / "1_users.up.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY, email text);\n")
    (project / "migrations" / "1_users.down.sql").write_text("DROP TABLE users;\n")
    plan = _write(project, "add column users.nick text")
    assert plan.tool == "golang-migrate"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text)")
        conn.execute("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
        conn.execute("INSERT INTO schema_migrations VALUES (1, false)")
        clean = project_status(project, pg_url)
        assert clean.blocked is None and clean.plans[0].next.startswith("Run step 1")
        conn.execute("UPDATE schema_migrations SET version = 2, dirty = true")
        dirty = project_status(project, pg_url)
        assert dirty.blocked.startswith("golang-migrate's schema_migrations marks version 2 dirty")
        assert dirty.plans[0].next.startswith("First put right what stops the migration tool: golang-migrate's")
        assert dirty.plans[0].next.endswith("Then: " + clean.plans[0].next)
        assert main(["status", "--project", str(project), "--database-url", pg_url]) == 0
        conn.execute("CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50), "
                     "script varchar(1000) NOT NULL, success boolean NOT NULL)")
        conn.execute("INSERT INTO flyway_schema_history VALUES (1, '1', 'V1__a.sql', true), (2, '2', 'V2__b.sql', false)")
        assert tool_blocked(conn, "flyway").startswith("Flyway's flyway_schema_history records a failed migration (2)")
        assert tool_blocked(conn, "dbmate") is None


def test_the_database_read_is_named_as_connected_to(tmp_path, pg_url):
    """A Unix socket's URL (`postgresql://u@/db?host=/sock/dir`) was said as localhost:5432; the URL
    said is one that reaches the database read, without the password."""
    from psycopg.conninfo import conninfo_to_dict

    from flux_agent.status.project import _without_password

    with psycopg.connect(pg_url) as conn:
        shown = _without_password(conn.info)
        with psycopg.connect(shown) as again:
            assert again.execute("SELECT current_database()").fetchone()[0] == conn.info.dbname
    assert "password" not in conninfo_to_dict(shown) and ":@" not in shown


def test_a_dropped_column_reads_as_applied_once_its_set_aside_copy_is_gone_too(project, db):
    """The set-aside step's new name is gone after the drop, and the drop alone looks done before
    anything ran (its column was never there): the column the plan removes, gone, proves both ran."""
    plan = _write(project, "drop column orders.note")
    steps = {s.number: s for s in plan.steps}
    sql_steps = [s.number for s in plan.steps if not s.is_code]
    assert len(sql_steps) == 2  # set aside, then drop
    assert {_states(project_status(project, db))[n] for n in sql_steps} == {"not applied"}
    done = []
    for number in sql_steps:
        tools.continue_migration(str(project))
        step = next(s for s in json.loads((project / ".flux" / "plans").glob("*.json").__next__().read_text())
                    ["plan"]["steps"] if s["number"] == number)
        steps[number] = steps[number].model_copy(update={"files": step["files"]})
        _run(db, project, steps[number])
        done.append(number)
        states = _states(project_status(project, db))
        assert [states[n] for n in sql_steps] == ["applied" if n in done else "not applied" for n in sql_steps]
    assert project_status(project, db).plans[0].next.startswith("Nothing left")


@pytest.mark.parametrize("words, breaking", [
    ("make orders.note not null", "orders.note IS NOT NULL"),  # a NOT NULL proved by a CHECK NOT VALID
    ("add check (total > 100) on orders", "total > 100"),
])
def test_a_validation_that_failed_on_rows_is_told_with_their_count_not_run_again_as_is(project, db, words, breaking):
    """A step that validates a NOT VALID constraint fails on the rows that break it (NULLs the plan
    was made without seeing: no --database-url). Run again as is, it fails again: status counts the
    rows from the constraint PostgreSQL holds, and says to fix them first."""
    plan = _write(project, words)
    if any(s.is_code for s in plan.steps):  # NOT NULL: deployed code that writes no NULL first
        plan = tools.continue_migration(str(project)).plan
    validate = next(s for s in plan.steps if "VALIDATE CONSTRAINT" in (s.up_sql or ""))
    for step in plan.steps[:validate.number - 1]:
        if not step.is_code:
            _run(db, project, step)
    with pytest.raises(psycopg.errors.CheckViolation):
        _run(db, project, validate)
    with psycopg.connect(db) as conn:
        (bad,) = conn.execute("SELECT count(*) FROM orders WHERE NOT (%s)" % breaking).fetchone()
    assert bad > 0
    report = project_status(project, db)
    status = report.plans[0].steps[validate.number - 1]
    assert status.state == "not applied"
    assert f"{bad:,} rows of orders that break" in " ".join(status.evidence)
    assert report.plans[0].next.startswith(f"Fix the {bad:,} rows of orders that break")
    assert f"then run step {validate.number}" in report.plans[0].next
    with psycopg.connect(db, autocommit=True) as conn:  # fixed, the step runs and nothing is said of rows
        conn.execute("DELETE FROM order_items; DELETE FROM orders WHERE NOT (%s)" % breaking)
    report = project_status(project, db)
    assert "break" not in " ".join(report.plans[0].steps[validate.number - 1].evidence)
    assert report.plans[0].next.startswith(f"Run step {validate.number}")
    _run(db, project, validate)
    assert _states(project_status(project, db))[validate.number] == "applied"


def test_rows_breaking_a_not_valid_key_or_check_are_counted_from_the_catalogs(pg_url):
    """rows_breaking reads the constraint PostgreSQL holds: a foreign key's columns (a key with a NULL
    passes, MATCH SIMPLE), a check's expression (NULL passes); a validated one or none: no count."""
    from flux_agent.status.catalog import rows_breaking

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute('CREATE TABLE "Parent" (a int, "b c" int, PRIMARY KEY (a, "b c"));'
                     'CREATE TABLE kid (id int, pa int, pb int, n int);'
                     'INSERT INTO "Parent" VALUES (1, 1), (2, 2);'
                     'INSERT INTO kid VALUES (1, 1, 1, 5), (2, 1, 2, -1), (3, 3, 3, NULL), (4, NULL, 9, -2), (5, 2, 2, 0);'
                     'ALTER TABLE kid ADD CONSTRAINT kid_p FOREIGN KEY (pb, pa) REFERENCES "Parent" ("b c", a) NOT VALID;'
                     'ALTER TABLE kid ADD CONSTRAINT kid_n CHECK (n >= 0) NOT VALID;'
                     'ALTER TABLE kid ADD CONSTRAINT kid_id CHECK (id > 0)')
        assert rows_breaking(conn, "kid", "kid_p") == 2  # (1, 2) and (3, 3); (NULL, 9) passes
        assert rows_breaking(conn, "kid", "kid_n") == 2  # -1 and -2; NULL passes
        assert rows_breaking(conn, "kid", "kid_id") is None  # validated
        assert rows_breaking(conn, "kid", "no_such") is None


def test_steps_written_past_the_deploy_are_said_to_run_not_to_write(project, db):
    """`flux continue` ran (the steps after the deploy are written) before the deploy was made: the
    next action is the deploy, then those files, not `flux continue`, which has nothing left to write."""
    plan = _write(project, "rename column users.email to email_address")
    deploy = next(s.number for s in plan.steps if s.is_code)
    for step in plan.steps[:deploy - 1]:
        _run(db, project, step)
    before = project_status(project, db).plans[0].next
    assert before.endswith("then run `flux continue` for the steps after it.")
    tools.continue_migration(str(project))
    after = project_status(project, db).plans[0].next
    assert after.startswith(f"Deploy the application change of step {deploy}")
    assert after.endswith(f"then run step {deploy + 1} (written already) with the project's migration tool.")
