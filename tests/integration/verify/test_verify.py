"""`flux verify`: every planner plan for examples/shop passes forward, rollback,
forward again on a scratch database; broken rollbacks and failing forward
steps are caught with PostgreSQL's message; a given server keeps no trace;
production-looking URLs are refused; the pending plan written by `flux plan
--write` starts from the schema before it; --load reports latency and no
lost write."""

from __future__ import annotations

import json
import shutil
import uuid

import psycopg
import pytest

from flux_agent.entry import cli
from flux_agent.write.deploy_groups import PLANS_DIR, PlanRecord
from flux_agent.errors import FluxInputError
from flux_agent.model.schema import Column, Constraint, EnumType, Index, Schema, Table, View
from flux_agent.pg.ddl import schema_ddl
from flux_agent.entry.actions import parse_operations, plan_migration
from flux_agent.verify import render_report, verify
from flux_agent.verify.sandbox import open_sandbox, url_concern
from flux_agent.verify.seed import seed
from flux_agent.verify.seed_scope import FEW, full_tables

from cases import CASES
from conftest import _with_db
from shop import SHOP, live_columns, model_columns, shop_schema

RENAME = [{"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}]


@pytest.fixture
def shop(tmp_path):
    dest = tmp_path / "shop"
    shutil.copytree(SHOP, dest)
    return dest


def _catalog(url: str) -> dict:
    """Everything user-made in one database, and the databases of the cluster."""
    with psycopg.connect(url, autocommit=True) as conn:
        def names(sql):
            return sorted(tuple(r) for r in conn.execute(sql).fetchall())
        return {
            "relations": names("SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n "
                               "ON n.oid = c.relnamespace WHERE c.oid >= 16384"),
            "namespaces": names("SELECT nspname FROM pg_namespace"),
            "types": names("SELECT typname FROM pg_type WHERE oid >= 16384"),
            "functions": names("SELECT proname FROM pg_proc WHERE oid >= 16384"),
            "triggers": names("SELECT tgname FROM pg_trigger WHERE oid >= 16384"),
            "databases": names("SELECT datname FROM pg_database"),
        }


# --------------------------------------------------------------------------
# Every plan the planner makes for examples/shop
# --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("case_id, ops, phases", CASES, ids=[c[0] for c in CASES])
def test_every_shop_plan_verifies(pg_admin_url, shop, case_id, ops, phases):
    report = verify(shop, database_url=pg_admin_url, rows=200, operations=ops)
    assert report.ok, render_report(report)
    plan = plan_migration(parse_operations(ops), str(shop))
    assert len(report.steps) == 3 * len(plan.steps)
    assert [s.direction for s in report.steps] == (["forward"] * len(plan.steps) + ["rollback"] * len(plan.steps)
                                                   + ["forward-again"] * len(plan.steps))
    assert [s.number for s in report.steps if s.direction == "rollback"] == [s.number for s in plan.steps][::-1]
    full = full_tables(plan, shop_schema())  # the tables the plan reaches: the others get a few rows
    assert report.seeded == {t.name: 200 if full is None or t.name in full else FEW for t in shop_schema().tables}
    assert all(s.ok and s.error is None and s.seconds >= 0 for s in report.steps)
    assert all(s.lock == p.lock for s, p in zip(report.steps, plan.steps))


def test_transactional_locks_are_observed(pg_admin_url, shop):
    report = verify(shop, database_url=pg_admin_url, rows=50, operations=RENAME)
    first = report.steps[0]
    assert first.number == 1 and first.lock == "ACCESS EXCLUSIVE"
    assert first.observed_lock == "ACCESS EXCLUSIVE on users"
    text = render_report(report)
    assert "ACCESS EXCLUSIVE -> ACCESS EXCLUSIVE on users" in text and text.rstrip().splitlines()[-1].startswith("OK")


# --------------------------------------------------------------------------
# Failures are caught, with PostgreSQL's message
# --------------------------------------------------------------------------


def _write_record(project, plan, written=()):
    record = PlanRecord(id=f"20300101000000_{uuid.uuid4().hex[:6]}", plan=plan, migrations_dir="db/migrations",
                        written=list(written))
    folder = project / PLANS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{record.id}.json").write_text(record.model_dump_json(indent=2))
    return record


def test_broken_rollback_is_caught(pg_admin_url, shop):
    plan = plan_migration(parse_operations(RENAME), str(shop))
    steps = [s.model_copy(update={"down_sql": "ALTER TABLE users DROP COLUMN no_such_column;"})
             if s.number == 4 else s for s in plan.steps]
    _write_record(shop, plan.model_copy(update={"steps": steps}))
    report = verify(shop, database_url=pg_admin_url, rows=100)
    assert not report.ok
    assert "pending plan" in report.source
    last = report.steps[-1]
    assert (last.number, last.direction, last.ok) == (4, "rollback", False)
    assert last.error == 'column "no_such_column" of relation "users" does not exist'
    assert last.sqlstate == "42703"
    assert all(s.ok for s in report.steps[:-1]) and len(report.steps) == len(plan.steps) + 5  # 8 forward, 8..5 back
    assert report.failure.startswith("step 4 (") and "failed on rollback" in report.failure
    assert 'ERROR: column "no_such_column" of relation "users" does not exist' in render_report(report)


def test_step_failing_forward_is_caught(pg_admin_url, shop):
    ops = [{"op": "add_column", "table": "users", "column": "nickname", "type": "text"},
           {"op": "raw_sql", "up": "ALTER TABLE orders ADD CONSTRAINT orders_total_huge CHECK (total > 1000000)",
            "down": "ALTER TABLE orders DROP CONSTRAINT orders_total_huge"}]
    report = verify(shop, database_url=pg_admin_url, rows=100, operations=ops)
    assert not report.ok
    assert [(s.number, s.direction, s.ok) for s in report.steps] == [(1, "forward", True), (2, "forward", False)]
    failed = report.steps[-1]
    assert failed.error == 'check constraint "orders_total_huge" of relation "orders" is violated by some row'
    assert failed.sqlstate == "23514"
    assert "failed on forward" in report.failure and report.failure.startswith("step 2 (")


def test_a_plan_table_left_empty_is_said(pg_admin_url, shop):
    """An OK on an empty table proves nothing of the plan's data work (plane's issues was left
    empty by a cycle of keys): the report says which of the plan's tables held no rows."""
    empty = verify(shop, database_url=pg_admin_url, rows=0, operations=RENAME)
    assert empty.ok
    assert [n for n in empty.notes if "holds no rows" in n] == [
        "users: the plan changes this table, and it holds no rows here: its data went unchecked"]
    filled = verify(shop, database_url=pg_admin_url, rows=20, operations=RENAME)
    assert filled.ok and not [n for n in filled.notes if "holds no rows" in n]


@pytest.mark.pg
def test_a_backfill_firing_the_tables_update_trigger_is_the_plans_warning_not_a_failure(shop):
    """harbor's and Infisical's tables touch an update time in a BEFORE UPDATE trigger: a rename's
    backfill moves it on every row, and no rollback puts it back. The plan warns of it
    (backfill-fires-triggers); verify failed the plan for it ("the plan declares no data loss there"),
    so no such plan could pass. It is now the warning's note; other data still fails."""
    (shop / "db/migrations/20250101090500_touch_users.sql").write_text(
        "-- migrate:up\nALTER TABLE users ADD COLUMN touched_at timestamptz;\n"
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched_at := clock_timestamp(); "
        "RETURN NEW; END $$;\n"
        "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\n"
        "-- migrate:down\nDROP TRIGGER users_touch ON users;\nDROP FUNCTION touch();\n"
        "ALTER TABLE users DROP COLUMN touched_at;\n")
    plan = plan_migration(parse_operations(RENAME), str(shop))
    assert [f.rule for f in plan.findings if f.rule == "backfill-fires-triggers"] == ["backfill-fires-triggers"]
    report = verify(shop, rows=20, operations=RENAME)  # the dev database's schema: its trigger too
    assert report.ok, report.failure
    assert ("the values of users.touched_at differ after the rollback from before the plan: the backfill fired "
            "users's update triggers, as the plan warns (backfill-fires-triggers)") in report.notes


def test_cli_exit_codes(pg_admin_url, shop, capsys):
    bad = json.dumps({"op": "raw_sql", "up": "ALTER TABLE users ALTER COLUMN nope SET DEFAULT 1"})
    assert cli.main(["verify", "--project", str(shop), "--database-url", pg_admin_url, "--rows", "20",
                     "--op", bad]) == 1
    out, err = capsys.readouterr()
    assert 'ERROR: column "nope" of relation "users" does not exist' in out
    assert "flux verify:" not in err  # progress goes to a terminal only
    assert cli.main(["verify", "--project", str(shop), "--database-url", pg_admin_url]) == 2
    assert "no pending plan" in capsys.readouterr().err
    good = json.dumps(RENAME[0])
    assert cli.main(["verify", "--project", str(shop), "--database-url", pg_admin_url, "--rows", "20",
                     "--op", good, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


# --------------------------------------------------------------------------
# A given server: nothing left behind, production refused
# --------------------------------------------------------------------------


def test_database_url_leaves_nothing_behind(pg_url, shop):
    before = _catalog(pg_url)
    assert verify(shop, database_url=pg_url, rows=50, operations=RENAME).ok
    broken = [{"op": "raw_sql", "up": "CREATE TABLE flux_probe (id int); SELECT 1/0"}]
    assert not verify(shop, database_url=pg_url, rows=50, operations=broken).ok
    assert _catalog(pg_url) == before


def test_scratch_schema_is_dropped(pg_url):
    before = _catalog(pg_url)
    with open_sandbox(pg_url, mode="schema") as box:
        assert box.mode == "schema"
        with psycopg.connect(box.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int)")
            where = conn.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = 't'")
            assert where.fetchone()[0] == box.scratch
    assert _catalog(pg_url) == before


def test_production_looking_urls_are_refused(pg_admin_url, shop, capsys):
    assert url_concern("postgresql://app@db.example.com/shop") == "its host db.example.com is not local"
    assert "production" in url_concern("postgresql://localhost/shop_production")
    assert "production" in url_concern("postgresql://localhost/live")
    assert url_concern("postgresql://localhost/products") is None
    assert url_concern("postgresql:///shop?host=/var/run/postgresql") is None
    with pytest.raises(FluxInputError, match="refusing to verify .*db.example.com.*--i-know"):
        verify(shop, database_url="postgresql://app:secret@db.example.com/shop", operations=RENAME)
    assert cli.main(["verify", "--project", str(shop), "--database-url", "postgresql://db.example.com/shop",
                     "--op", json.dumps(RENAME[0])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing" in err[0] and "--i-know" in err[0] and "secret" not in err[0]
    # A local database named like production runs once the caller says so.
    name = f"flux_test_prod_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = _with_db(pg_admin_url, name)
        with pytest.raises(FluxInputError, match="says production"):
            verify(shop, database_url=url, operations=RENAME)
        assert verify(shop, database_url=url, rows=20, operations=RENAME, i_know=True).ok
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.pg
def test_embedded_server_without_url(shop):
    """Without a URL, verify runs on a copy of the dev database Flux owns, dropped afterwards."""
    lines = []
    report = verify(shop, rows=30, operations=[{"op": "add_index", "table": "orders", "columns": ["user_id"]}],
                    progress=lines.append)
    assert report.ok, render_report(report)
    assert report.database.startswith("a copy of the dev database")
    assert any(line.startswith("created scratch database flux_verify_") for line in lines)
    assert any(line.startswith("dropped database flux_verify_") for line in lines)


@pytest.mark.pg
@pytest.mark.parametrize("target", ["integer", "timestamptz", "uuid", "jsonb", "boolean"])
def test_a_text_column_converted_holds_rows_that_convert(shop, target):
    """Verify's rows for a text column were "note-1", which casts to no integer: every text -> integer
    (timestamptz, uuid, ...) plan failed on rows verify made, not on the user's. A column the plan
    casts holds values that cast, in the seed and in the application's writes (--load)."""
    op = {"op": "change_column_type", "table": "orders", "column": "note", "type": target}
    report = verify(shop, rows=40, operations=[op])
    assert report.ok, render_report(report)
    assert report.seeded["orders"] == 40


@pytest.mark.pg
def test_a_foreign_key_the_plan_adds_is_seeded_as_one(shop):
    """hoppscotch's InfraToken.creatorUid -> User.uid: verify filled creatorUid with values no User had,
    and the plan's VALIDATE failed on verify's own rows. A key the plan adds is among the seed's keys."""
    (shop / "db" / "migrations" / "20260101000000_tokens.sql").write_text(
        "-- migrate:up\nCREATE TABLE tokens (id bigint PRIMARY KEY, creator_email text);\n"
        "-- migrate:down\nDROP TABLE tokens;\n")
    op = {"op": "add_foreign_key", "table": "tokens", "columns": ["creator_email"], "ref_table": "users",
          "ref_columns": ["email"]}
    report = verify(shop, rows=30, operations=[op])
    assert report.ok, render_report(report)
    assert report.seeded["tokens"] == 30


@pytest.mark.pg
@pytest.mark.slow
def test_a_text_column_converted_under_load_takes_writes_that_convert(shop):
    report = verify(shop, rows=40, load=True,
                    operations=[{"op": "change_column_type", "table": "orders", "column": "note", "type": "integer"}])
    assert report.ok and not report.traffic_errors and not report.lost_writes, render_report(report)


# --------------------------------------------------------------------------
# The pending plan written by `flux plan --write`
# --------------------------------------------------------------------------


def test_pending_plan_starts_before_its_written_files(pg_admin_url, shop, capsys):
    assert cli.main(["plan", "--project", str(shop), "--op", json.dumps(RENAME[0]), "--write"]) == 0
    capsys.readouterr()
    written = sorted((shop / "db" / "migrations").glob("*email_address*"))
    assert written, "flux plan --write wrote the first deploy's files"
    report = verify(shop, database_url=pg_admin_url, rows=100)
    assert report.ok, render_report(report)
    assert report.source.startswith(f"the pending plan {PLANS_DIR}/")
    assert report.steps[0].direction == "forward" and report.steps[0].number == 1  # adds email_address: not there yet
    assert len([s for s in report.steps if s.direction == "forward"]) == 8
    assert cli.main(["verify", "--project", str(shop), "--database-url", pg_admin_url, "--rows", "50"]) == 0
    assert "OK: every step ran forward" in capsys.readouterr().out


def test_a_written_file_edited_since_is_verified_as_it_is_now(pg_admin_url, shop, capsys):
    """A user edits a file `flux plan --write` wrote (a typo here): verify ran the SQL kept in the plan
    record and said OK, while the file that deploys would fail. The record keeps each written file's
    digest; a file changed since runs as it is now, and the report says which."""
    assert cli.main(["plan", "--project", str(shop), "--op", json.dumps(RENAME[0]), "--write"]) == 0
    capsys.readouterr()
    first = sorted((shop / "db" / "migrations").glob("*email_address*"))[0]
    text = first.read_text()
    assert "ADD COLUMN email_address text" in text
    first.write_text(text.replace("ADD COLUMN email_address text", "ADD COLUMN email_address txet"))
    report = verify(shop, database_url=pg_admin_url, rows=20)
    assert not report.ok
    failed = report.steps[-1]
    assert (failed.number, failed.direction, failed.ok) == (1, "forward", False) and "txet" in failed.error
    rel = first.relative_to(shop).as_posix()
    assert f"step 1: {rel} changed since Flux wrote it: verified as the file is now" in report.notes
    first.write_text(text)  # as written again: verified as planned, no note
    report = verify(shop, database_url=pg_admin_url, rows=20)
    assert report.ok and not [n for n in report.notes if "changed since" in n]


def test_mcp_tool_verifies_a_plan_by_its_id(pg_admin_url, shop):
    from flux_agent.entry import tool_calls

    root = shop.resolve()
    planned = json.loads(tool_calls.call("plan_migration", {"operations": [
        {"op": "add_column", "table": "users", "column": "nickname", "type": "text"}]}, root))
    result = json.loads(tool_calls.call("verify_migration", {"plan_id": planned["plan_id"],
                                                             "database_url": pg_admin_url, "rows": 20}, root))
    assert set(result) == {"status", "report"}  # the report once, as the CLI prints it
    assert result["status"] == "ok" and "OK: every step ran forward" in result["report"]
    assert "add column users.nickname" in result["report"]


# --------------------------------------------------------------------------
# --load
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_load_on_rename_column(pg_admin_url, shop):
    # The batched backfill ends when a pause between batches sees no new row: no pause here.
    (shop / ".flux.yaml").write_text("backfill_sleep_ms: 0\n")
    report = verify(shop, database_url=pg_admin_url, rows=200, operations=RENAME, load=True)
    assert report.ok, render_report(report)
    assert report.lost_writes == 0 and report.traffic_errors == 0
    # The detector looked: writes were made and each one's value was looked up after its pass.
    assert report.checked_writes >= 10, render_report(report)
    ran = [s for s in report.steps if s.ops]
    assert len(ran) >= len(report.steps) - 4  # steps with nothing to roll back have no window
    for s in ran:
        assert s.worst_ms is not None and s.p99_ms is not None and 0 <= s.p99_ms <= s.worst_ms
        assert s.errors == 0
    code = [s for s in report.steps if s.phase == "code"]
    assert len(code) == 3 and all(s.ops > 0 for s in code)
    text = render_report(report)
    assert "traffic worst/p99 ms" in text and f"Data check: 0 lost write(s) of {report.checked_writes} checked" in text


# --------------------------------------------------------------------------
# Building and filling a schema
# --------------------------------------------------------------------------


def test_schema_ddl_and_seed_cover_the_model(pg_url):
    schema = Schema(
        enums=[EnumType(name="billing.mood", values=["ok", "sad"])],
        tables=[
            Table(name="billing.accounts", primary_key=["id"],
                  columns=[Column(name="id", type="integer", nullable=False,
                                  default="nextval('billing.accounts_id_seq'::regclass)"),
                           Column(name="code", type="character varying(8)", nullable=False),
                           Column(name="kind", type="text", nullable=False),
                           Column(name="mood", type="billing.mood"),
                           Column(name="parent_id", type="integer"),
                           Column(name="tags", type="text[]"),
                           Column(name="opened", type="date", nullable=False),
                           Column(name="ratio", type="numeric(4,2)")],
                  constraints=[Constraint(name="accounts_pkey", kind="primary_key", columns=["id"]),
                               Constraint(name="accounts_code_key", kind="unique", columns=["code"]),
                               Constraint(name="accounts_kind_check", kind="check", columns=["kind"],
                                          expression="kind IN ('a', 'b')"),
                               Constraint(name="accounts_parent_fkey", kind="foreign_key", columns=["parent_id"],
                                          ref_table="billing.accounts", ref_columns=["id"], on_delete="SET NULL")],
                  indexes=[Index(name="accounts_pkey", columns=["id"], unique=True, primary=True),
                           Index(name="accounts_code_key", columns=["code"], unique=True),
                           Index(name="accounts_lower_kind", columns=["lower(kind)"], where="ratio > 0")]),
            Table(name="entries", primary_key=["account_id", "n"],
                  columns=[Column(name="account_id", type="integer", nullable=False),
                           Column(name="n", type="smallint", nullable=False),
                           Column(name="at", type="timestamp with time zone", nullable=False, default="now()"),
                           Column(name="body", type="jsonb"),
                           Column(name="token", type="uuid", nullable=False)],
                  constraints=[Constraint(name="entries_account_fkey", kind="foreign_key", columns=["account_id"],
                                          ref_table="billing.accounts", ref_columns=["id"])]),
        ],
        views=[View(name="recent", definition="SELECT account_id, n FROM entries WHERE n > 1")],
    )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for stmt in schema_ddl(schema):
            conn.execute(stmt)
        result = seed(conn, schema, 150)
        assert result.notes == []
        assert result.counts == {"billing.accounts": 150, "entries": 150}
        assert conn.execute("SELECT count(DISTINCT kind) FROM billing.accounts").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM recent").fetchone()[0] > 0
        # sequences continue after the seeded ids
        new_id = conn.execute("INSERT INTO billing.accounts (code, kind, opened) VALUES ('x', 'a', now()) "
                              "RETURNING id").fetchone()[0]
        assert new_id == 151


def test_schema_ddl_rebuilds_the_shop(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for stmt in schema_ddl(shop_schema()):
            conn.execute(stmt)
        assert live_columns(conn) == model_columns(shop_schema())
        new_id = conn.execute("INSERT INTO users (email) VALUES ('a@b.c') RETURNING id").fetchone()[0]
        assert new_id == 1  # identity column


def test_a_schema_that_cannot_be_built_is_reported(pg_admin_url, tmp_path):
    folder = tmp_path / "app" / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "20250101000000_init.sql").write_text(
        "-- migrate:up\nCREATE TABLE notes (id bigint PRIMARY KEY, body no_such_type);\n-- migrate:down\n"
        "DROP TABLE notes;\n")
    # The dev database runs the project's history: the failing statement is named with the refusal.
    # (A type named as an extension the server has, such as citext, is created: see test_devdb.)
    with pytest.raises(FluxInputError, match='unknown table .*notes.*init.sql:2: statement skipped: type '
                                             '"no_such_type" does not exist'):
        verify(tmp_path / "app", database_url=pg_admin_url, rows=10,
               operations=[{"op": "add_column", "table": "notes", "column": "title", "type": "text"}])


def test_scratch_databases_left_by_a_crash_are_dropped_later(pg_url, shop):
    """A verify killed mid-run leaves its scratch database; a later verify drops it
    once it is old and unused, and never touches anything else."""
    import psycopg

    from flux_agent.verify import sandbox

    old = "flux_verify_1000000000_deadbeef"  # started in 2001: long stale
    recent = f"flux_verify_{int(__import__('time').time())}_cafebabe"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{old}"')
        conn.execute(f'CREATE DATABASE "{recent}"')
    assert verify(shop, database_url=pg_url, rows=20, operations=RENAME).ok
    with psycopg.connect(pg_url, autocommit=True) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}
        assert old not in names and recent in names
        conn.execute(f'DROP DATABASE "{recent}"')
    assert sandbox.STALE_SECONDS >= 3600


GENERATED = """-- migrate:up
ALTER TABLE orders ADD COLUMN total_with_tax numeric(12,2) GENERATED ALWAYS AS (total * 1.2) STORED;
CREATE INDEX orders_total_with_tax_idx ON orders (total_with_tax);
-- migrate:down
ALTER TABLE orders DROP COLUMN total_with_tax;
"""


def test_a_generated_column_is_dropped_and_rolled_back_as_generated(pg_admin_url, shop):
    # The drop's rollback re-adds the column as PostgreSQL computes it (it came back empty, a plain
    # column, "data loss: yes"); a rename or retype is refused by the model itself, offline too.
    (shop / "db" / "migrations" / "20250101090500_total_with_tax.sql").write_text(GENERATED)
    drop = [{"op": "drop_column", "table": "orders", "column": "total_with_tax"}]
    plan = plan_migration(parse_operations(drop), str(shop))
    assert not any(s.data_loss_on_rollback for s in plan.steps), [s.rollback for s in plan.steps]
    assert "GENERATED ALWAYS AS (total * 1.2) STORED" in plan.steps[-1].down_sql
    report = verify(shop, database_url=pg_admin_url, rows=100, operations=drop)
    assert report.ok, render_report(report)
    for op in ({"op": "rename_column", "table": "orders", "column": "total_with_tax", "new_name": "gross"},
               {"op": "change_column_type", "table": "orders", "column": "total_with_tax", "type": "numeric(14,2)"}):
        with pytest.raises(FluxInputError, match="it is a generated column .computed as total \\* 1.2"):
            plan_migration(parse_operations([op]), str(shop))


def test_a_second_pending_plan_is_named_beside_the_one_verified(shop, capsys):
    """kutt: two plans written, each with steps left; verify ran the newest and said nothing of the
    other. The report's source names it, and what of it the run holds."""
    from flux_agent.verify.pending import resolve_plan

    drop = {"op": "drop_column", "table": "orders", "column": "note"}
    for op in (RENAME[0], drop):
        assert cli.main(["plan", "--project", str(shop), "--op", json.dumps(op), "--write"]) == 0
    capsys.readouterr()
    records = sorted(p.stem for p in (shop / PLANS_DIR).glob("*.json"))
    assert len(records) == 2
    source = resolve_plan(shop, None).source
    assert f"the pending plan {PLANS_DIR}/{records[1]}.json, the newest of 2" in source and records[0] in source


def test_a_not_null_meeting_the_synthetic_nulls_says_what_to_do(pg_admin_url, shop):
    """nestjs-boilerplate's `make user.email required` failed on the synthetic rows' NULLs with the bare
    error: the report says those rows hold NULLs as production's may, and what a backfill is for."""
    report = verify(shop, database_url=pg_admin_url, rows=100,
                    operations=[{"op": "set_not_null", "table": "users", "column": "name"}])
    assert not report.ok
    assert "violated" in report.failure and "the synthetic rows hold NULLs in users.name" in report.failure
    assert "give set_not_null a backfill" in report.failure


def test_a_plan_written_whole_is_verified_from_before_its_files(pg_admin_url, shop, capsys):
    """A one-step plan is written whole by `plan --write` (jellyseerr's index): verify said "nothing to
    verify" right after it was written. It runs the newest plan from the history without its files."""
    op = {"op": "add_column", "table": "users", "column": "nickname", "type": "text"}
    assert cli.main(["plan", "--project", str(shop), "--op", json.dumps(op), "--write"]) == 0
    capsys.readouterr()
    assert sorted((shop / "db" / "migrations").glob("*nickname*")), "the plan's file is written"
    report = verify(shop, database_url=pg_admin_url, rows=20)
    assert report.ok, render_report(report)
    assert report.source.startswith(f"the newest plan, written whole, {PLANS_DIR}/")
    assert report.steps[0].direction == "forward" and report.steps[0].number == 1  # the column is not there yet
