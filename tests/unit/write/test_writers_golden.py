"""Writers for the tools that cannot run here offline (Prisma, golang-migrate,
goose, Flyway, sqitch, Rails): golden files for one fixed plan, byte for byte
(FLUX_UPDATE_GOLDEN=1 rewrites them), every SQL text parsed with pglast, names
continuing existing files, the no-transaction switch exactly on non-transactional
steps, sqitch.plan keeping its lines, no overwriting. Ruby checked with `ruby -c`
and the files run as their tool would run them on a real PostgreSQL:
tests/integration/write/test_writers_golden_run.py."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pglast
import pytest

from flux_agent.pg.split import cut_statements, split_statements
from flux_agent.errors import FluxInputError, FluxRefused
from flux_agent.model.plan import Finding, Plan, Step
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.entry.actions import parse_operations
from flux_agent.write.tools import get_writer
from flux_agent.write.base import commit, db_steps, guarded_up_sql
from flux_agent.write.tools.goose import mark_statements
from flux_agent.write.tools._prisma_note import code_note
from flux_agent.write.tools.rails import execute, render_file as rails_file

from cases import CASES
from conftest import FIXTURES_REAL
from shop import ROOT, shop_schema

GOLDEN = ROOT / "tests" / "golden"
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
TOOLS = ["prisma", "golang-migrate", "goose", "flyway", "sqitch", "rails"]
_CASES = {c[0]: c[1] for c in CASES}


def plan_for(tool: str, case: str = "rename-column") -> Plan:
    return build_plan(parse_operations(_CASES[case]), shop_schema(), Settings(), tool=tool)


def jobs_for(tool: str, project: Path, case: str = "rename-column", now: datetime = NOW):
    writer = get_writer(tool)
    laid = writer.layout(plan_for(tool, case), project, writer.default_dir, now)
    extra = {"now": now} if tool == "sqitch" else {}
    return writer, laid, writer.jobs(laid, project, **extra)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def heredocs(ruby: str) -> list[str]:
    """The SQL bodies of `execute <<~'X'` heredocs, indentation removed as Ruby would."""
    out, lines = [], ruby.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("execute <<~'"):
            end = line.strip()[len("execute <<~'"):-1]
            j = next(k for k in range(i + 1, len(lines)) if lines[k].strip() == end)
            out.append("\n".join(x[6:] for x in lines[i + 1:j]))
    return out


def sql_texts(tool: str, rel: str, content: str) -> list[str]:
    """The SQL inside one written file, tool markers and wrappers taken off."""
    if tool == "rails":
        return heredocs(content)
    if rel.endswith(".conf") or rel.endswith("sqitch.plan"):
        return []
    if tool == "goose":
        up, down = content.split("-- +goose Down\n")
        strip = lambda t: "\n".join(x for x in t.splitlines() if not x.startswith("-- +goose"))  # noqa: E731
        return [strip(up), strip(down)]
    return [content]


# ---------------------------------------------------------------- golden files


@pytest.mark.parametrize("tool", TOOLS)
def test_golden_files(tmp_path, tool):
    project = tmp_path / "shop"
    project.mkdir()
    writer, laid, jobs = jobs_for(tool, project)
    commit(laid, project, jobs)
    written = files(project)
    golden = GOLDEN / tool
    if os.environ.get("FLUX_UPDATE_GOLDEN") == "1":
        shutil.rmtree(golden, ignore_errors=True)
        for rel, data in written.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_bytes(data)
    assert golden.is_dir(), f"no golden files for {tool}: run with FLUX_UPDATE_GOLDEN=1"
    assert written == files(golden)
    assert sorted(written) == sorted(j.rel for j in jobs)


@pytest.mark.parametrize("tool", TOOLS)
def test_every_sql_parses(tmp_path, tool):
    _, laid, jobs = jobs_for(tool, tmp_path)
    for job in jobs:
        texts = sql_texts(tool, job.rel, job.content)
        for text in texts:
            pglast.parse_sql(text)  # raises on any syntax error
        if job.rel.endswith(".conf") or job.rel.endswith("sqitch.plan"):
            continue
        assert texts and any(t.strip() for t in texts), job.rel


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(_CASES))
@pytest.mark.parametrize("tool", TOOLS)
def test_every_case_writes_parseable_sql(tmp_path, tool, case):
    _, laid, jobs = jobs_for(tool, tmp_path, case)
    assert len(jobs) >= len(db_steps(laid))
    for job in jobs:
        for text in sql_texts(tool, job.rel, job.content):
            pglast.parse_sql(text)


def test_rails_heredocs_give_back_the_exact_sql():
    _, laid, jobs = jobs_for("rails", Path("/nonexistent"))
    for step, job in zip(db_steps(laid), jobs):
        bodies = heredocs(job.content)
        for sql in (guarded_up_sql(step), step.down_file_sql):  # the guard first: an execute of its own
            if not sql:
                continue
            want = [sql.strip()] if step.transactional else cut_statements(sql)
            assert bodies[: len(want)] == want
            bodies = bodies[len(want):]
        assert bodies == []


# ---------------------------------------------------------------- no-transaction switches


@pytest.mark.parametrize("tool", TOOLS)
def test_no_transaction_switch_exactly_on_non_transactional_steps(tmp_path, tool):
    _, laid, jobs = jobs_for(tool, tmp_path)
    content = {j.rel: j.content for j in jobs}
    steps = db_steps(laid)
    assert {s.transactional for s in steps} == {True, False}  # the plan has both kinds
    for step in steps:
        first = content[step.files[0]]
        plain = step.transactional
        if tool in ("prisma", "golang-migrate"):
            # no switch: a non-transactional file is exactly one statement
            assert plain or len(split_statements(first)) == 1
            assert "BEGIN;" not in first.splitlines()
        elif tool == "goose":
            assert first.startswith("-- +goose NO TRANSACTION\n") != plain
            assert first.count("-- +goose NO TRANSACTION") == (0 if plain else 1)
        elif tool == "flyway":
            conf = [f for f in step.files if f.endswith(".sql.conf")]
            assert bool(conf) != plain
            if conf:
                assert conf[0] == step.files[0] + ".conf"
                assert content[conf[0]] == "executeInTransaction=false\n"
        elif tool == "sqitch":
            deploy, revert = content[step.files[0]].splitlines(), content[step.files[1]].splitlines()
            assert ("BEGIN;" in deploy and "COMMIT;" in deploy) == plain
            if (step.down_sql or "").strip():
                assert ("BEGIN;" in revert and "COMMIT;" in revert) == plain
            else:
                assert "BEGIN;" not in revert
        elif tool == "rails":
            assert ("  disable_ddl_transaction!" in first.splitlines()) != plain


def test_non_transactional_multi_statement_refused(tmp_path):
    step = Step(number=1, phase="migrate", title="two", transactional=False,
                up_sql="CREATE INDEX CONCURRENTLY a ON t (x);\nCREATE INDEX CONCURRENTLY b ON t (y);")
    plan = Plan(description="x", type="safe", tool="prisma", operations=[], steps=[step])
    for tool in ("prisma", "golang-migrate"):
        writer = get_writer(tool)
        laid = writer.layout(plan, tmp_path, writer.default_dir, NOW)
        with pytest.raises(FluxInputError, match="one statement"):
            writer.jobs(laid, tmp_path)
    # Rails runs each statement on its own instead
    ruby = rails_file(step, "Two")
    assert ruby.count("execute <<~'SQL'") == 2 and "disable_ddl_transaction!" in ruby


# ---------------------------------------------------------------- goose statement blocks


def test_goose_blocks_only_where_needed():
    sql = ("SELECT 1; DO $$ BEGIN PERFORM 1; END $$; -- trailing note\n"
           "SELECT 'a;\nb';\n"
           "-- DROP TABLE x\n"
           "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $f$ SELECT 1; $f$;\n"
           "SELECT 2;")
    out = mark_statements(sql)
    assert out == (
        "SELECT 1;\n-- +goose StatementBegin\nDO $$ BEGIN PERFORM 1; END $$;\n-- +goose StatementEnd\n"
        " -- trailing note\n"
        "-- +goose StatementBegin\nSELECT 'a;\nb';\n-- +goose StatementEnd\n"
        "-- DROP TABLE x\n"
        "-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $f$ SELECT 1; $f$;\n"
        "-- +goose StatementEnd\n"
        "SELECT 2;"
    )
    assert len(split_statements(out)) == 5
    assert mark_statements("ALTER TABLE t ADD COLUMN c int;\nSELECT 1;") == "ALTER TABLE t ADD COLUMN c int;\nSELECT 1;"


# ---------------------------------------------------------------- Ruby heredocs


def test_rails_heredoc_terminator_and_interpolation():
    sql = "SELECT '#{x}' AS a, E'\\\\n' AS b;\n-- a line that is the terminator:\nSQL\n;"
    text = execute(sql)
    assert text.startswith("    execute <<~'SQL_1'\n") and text.endswith("\n    SQL_1\n")
    assert heredocs(text) == [sql]


# ---------------------------------------------------------------- naming continues existing files


def names(tool: str, project: Path, folder: str | None = None) -> list[str]:
    writer = get_writer(tool)
    laid = writer.layout(plan_for(tool), project, folder or writer.default_dir, NOW)
    return [Path(s.files[0]).name if tool != "prisma" else Path(s.files[0]).parent.name for s in db_steps(laid)]


def touch(folder: Path, *entries: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for e in entries:
        (folder / e).mkdir() if e.endswith("/") else (folder / e).write_text("-- x\n")


def test_prisma_folders_after_existing(tmp_path):
    touch(tmp_path / "prisma/migrations", "20300101000000_init/", "migration_lock.toml")
    got = names("prisma", tmp_path)
    assert [n[:14] for n in got[:3]] == ["20300101000001", "20300101000002", "20300101000003"]
    umami = tmp_path / "u"
    touch(umami / "prisma/migrations", "01_init/", "19_add_session_replay/")
    first = names("prisma", umami)[0]
    assert first.startswith("20250304050607_") and first > "19_add_session_replay"


def test_golang_migrate_versions(tmp_path):
    touch(tmp_path / "migrations", "000006_a.up.sql", "000006_a.down.sql", "000007_b.up.sql")
    assert names("golang-migrate", tmp_path)[:2] == [
        "000008_add_users_email_address_and_a_trigger_keeping.up.sql",
        "000009_copy_email_into_email_address_in_batches_rename.up.sql"]
    plain = tmp_path / "p"
    touch(plain / "migrations", "1_init.up.sql", "12_more.up.sql")
    assert names("golang-migrate", plain)[0].startswith("13_")
    empty = tmp_path / "e"
    assert names("golang-migrate", empty)[0].startswith("000001_")
    stamps = tmp_path / "s"
    touch(stamps / "migrations", "20300101120000_x.up.sql", "20300101120000_x.down.sql")
    assert [n[:15] for n in names("golang-migrate", stamps)[:2]] == ["20300101120001_", "20300101120002_"]


def test_golang_migrate_continues_pocket_id(tmp_path):
    real = FIXTURES_REAL / "golang-migrate-pocket-id" / "migrations" / "postgres"
    if not real.is_dir():
        pytest.skip(f"fixture not present: {real}")
    top = max(p.name[:14] for p in real.glob("*.up.sql"))
    shutil.copytree(real, tmp_path / "migrations" / "postgres")
    got = names("golang-migrate", tmp_path, "migrations/postgres")
    assert all(len(n.split("_")[0]) == 14 for n in got)
    assert got[0][:14] > top and got == sorted(got)


def test_goose_versions(tmp_path):
    assert names("goose", tmp_path)[0].startswith("20250304050607_")
    touch(tmp_path / "seq/migrations", "00001_init.sql", "00003_more.go")
    assert names("goose", tmp_path / "seq")[0].startswith("00004_")
    touch(tmp_path / "ts/migrations", "20300101000000_init.sql")
    assert names("goose", tmp_path / "ts")[0].startswith("20300101000001_")


def test_flyway_versions(tmp_path):
    """Versions go on from the highest by its last part, at its padding: a folder of V1_20_4 (hawkbit's)
    got V2, a major version the project had not released."""
    assert names("flyway", tmp_path)[0].startswith("V1__")
    touch(tmp_path / "n/db/migration", "V1__init.sql", "V2_1__x.sql", "V2.3__y.sql", "R__views.sql", "U1__init.sql")
    got = names("flyway", tmp_path / "n")
    assert [n.split("__")[0] for n in got[:2]] == ["V2.4", "V2.5"]
    touch(tmp_path / "s/db/migration", "B1_20_0__baseline.sql", "V1_9_12__x.sql", "V1_20_4__kv.sql", "V1_20_3__y.sql")
    assert names("flyway", tmp_path / "s")[0].startswith("V1_20_5__")
    touch(tmp_path / "p/db/migration", "V1__init.sql", "V3__x.sql")
    assert names("flyway", tmp_path / "p")[0].startswith("V4__")
    touch(tmp_path / "z/db/migration", "V001__init.sql", "V009__x.sql")
    assert names("flyway", tmp_path / "z")[0].startswith("V010__")
    touch(tmp_path / "t/db/migration", "V20300101000000__init.sql")
    assert names("flyway", tmp_path / "t")[0].startswith("V20300101000001__")


def test_flyway_files_end_as_the_folders_do(tmp_path):
    """A per-database folder whose Flyway runs only files ending `POSTGRESQL.sql` (hawkbit's
    sql-migration-suffixes): the written V-, U- and .conf files end so too; a folder whose files
    do not agree keeps `.sql`."""
    touch(tmp_path / "h/db/migration", "B1_20_0__baseline__POSTGRESQL.sql", "V1_20_4__kv__POSTGRESQL.sql")
    got = names("flyway", tmp_path / "h")
    assert got and all(n.endswith(("__POSTGRESQL.sql", "__POSTGRESQL.sql.conf")) for n in got), got
    touch(tmp_path / "m/db/migration", "V1__init__POSTGRESQL.sql", "V2__more.sql")
    assert all(not n.endswith("__POSTGRESQL.sql") for n in names("flyway", tmp_path / "m"))


def test_rails_names_versions_and_acronyms(tmp_path):
    mig = tmp_path / "db/migrate"
    touch(mig, "20300101000000_drop_users_email_and_the_sync_trigger.rb")
    (mig / "20300101000000_drop_users_email_and_the_sync_trigger.rb").write_text(
        "class DropUsersEmailAndTheSyncTrigger < ActiveRecord::Migration[7.2]\nend\n")
    (tmp_path / "config/initializers").mkdir(parents=True)
    (tmp_path / "config/initializers/inflections.rb").write_text(
        "ActiveSupport::Inflector.inflections(:en) do |inflect|\n  inflect.acronym \"SQL\"\n"
        "  # inflect.acronym 'RESTful'\nend\n")
    writer, laid, jobs = jobs_for("rails", tmp_path)
    got = [Path(j.rel).name for j in jobs]
    assert got[0].startswith("20300101000001_") and got == sorted(got)
    assert got[-1] == "20300101000007_drop_users_email_and_the_sync_trigger_2.rb"
    assert "class DropUsersEmailAndTheSyncTrigger2 < ActiveRecord::Migration[7.2]" in jobs[-1].content
    step = Step(number=1, phase="migrate", title="fix sql view", up_sql="SELECT 1;")
    plan = Plan(description="x", type="safe", tool="rails", operations=[], steps=[step])
    laid = writer.layout(plan, tmp_path, "db/migrate", NOW)
    assert "class FixSQLView < ActiveRecord::Migration[7.2]" in writer.jobs(laid, tmp_path)[0].content


def test_sqitch_plan_keeps_lines_and_chains(tmp_path):
    existing = ("%syntax-version=1.0.0\n%project=shop\n%uri=https://example.com/shop/\n\n"
                "appschema 2024-01-01T00:00:00Z Ann <ann@example.com> # schema\n"
                "users [appschema] 2024-01-02T00:00:00Z Ann <ann@example.com> # users\n"
                "@v1.0 2024-01-03T00:00:00Z Ann <ann@example.com> # tag\n\n"
                "drop_users_email_and_the_sync_trigger [users] 2024-01-04T00:00:00Z Ann <ann@example.com> # taken\n")
    (tmp_path / "sqitch.plan").write_text(existing)
    writer, laid, jobs = jobs_for("sqitch", tmp_path)
    plan_job = jobs[-1]
    assert plan_job.rel == "sqitch.plan" and plan_job.replace
    assert plan_job.content.startswith(existing)
    added = plan_job.content[len(existing):].splitlines()
    assert len(added) == len(db_steps(laid))
    assert added[0].startswith("add_users_email_address_and_a_trigger_keeping "
                               "[drop_users_email_and_the_sync_trigger] 2025-03-04T05:06:07Z Flux <flux@localhost> # ")
    assert added[-1].startswith("drop_users_email_and_the_sync_trigger_2 [set_users_email_address")
    commit(laid, tmp_path, jobs)
    assert (tmp_path / "sqitch.plan").read_text() == plan_job.content
    assert (tmp_path / "deploy/drop_users_email_and_the_sync_trigger_2.sql").is_file()


# ---------------------------------------------------------------- refusal to overwrite


@pytest.mark.parametrize("tool", TOOLS)
def test_refuses_to_overwrite_and_writes_nothing(tmp_path, tool):
    if tool == "sqitch":
        (tmp_path / "sqitch.plan").write_text("%project=shop\n")
    writer, laid, jobs = jobs_for(tool, tmp_path)
    taken = tmp_path / next(j.rel for j in reversed(jobs) if not j.replace)
    taken.parent.mkdir(parents=True, exist_ok=True)
    taken.write_text("mine")
    before = files(tmp_path)
    with pytest.raises(FluxInputError, match="overwrite"):
        writer.write(laid, tmp_path)
    assert files(tmp_path) == before
    refused = laid.model_copy(update={"findings": [Finding(rule="r", severity="error", message="no")]})
    taken.unlink()
    before = files(tmp_path)
    with pytest.raises(FluxRefused):
        writer.write(refused, tmp_path)
    assert files(tmp_path) == before


# ---------------------------------------------------------------- schema.prisma notes


SCHEMA = """model User {
  id      Int     @id
  email   String  @unique @map("email") // login
  name    String?
  orders  Order[]

  @@index([email, name])
  @@map("users")
}

model Order {
  id     Int    @id
  userId Int    @map("user_id")
  note   String?
  user   User   @relation(fields: [userId], references: [id])
  @@map("orders")
}

model legacy_events {
  id Int @id
}
"""


def note(ops) -> str | None:
    plan = Plan(description="x", type="safe", tool="prisma", operations=parse_operations(ops), steps=[])
    return code_note(plan, SCHEMA)


def test_prisma_code_notes():
    assert note({"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}) == (
        'in model User, field email maps the new column: email String @unique @map("email_address") (written with '
        'the plan; application code needs no change); to rename the field too: email_address String @unique, and '
        'rename email to email_address in: @@index([email, name])'
    )
    assert note({"op": "rename_column", "table": "orders", "column": "user_id", "new_name": "customer_id"}) == (
        'in model Order, field userId maps the new column: userId Int @map("customer_id") (written with the plan; '
        'application code needs no change); to rename the field too: customerId Int @map("customer_id"), and '
        'rename userId to customerId in: user   User   @relation(fields: [userId], references: [id])'
    )
    assert note({"op": "drop_column", "table": "orders", "column": "note"}) == (
        "in model Order, field note gets @ignore, so the client no longer has it (written with the plan; the "
        "line goes with the drop)")
    assert note({"op": "rename_table", "table": "orders", "new_name": "purchases"}) == (
        'model Order @@map("orders") becomes @@map("purchases") (written with the plan; application code needs no '
        'change)')
    assert note({"op": "rename_table", "table": "legacy_events", "new_name": "events"}) == (
        'model legacy_events gets the line @@map("events") (written with the plan; application code needs no change)')
    assert note({"op": "drop_table", "table": "users"}) == (
        "model User gets @@ignore, so the client no longer has it (written with the plan; the model goes with the "
        "drop), as do the relation fields pointing to it: model Order: user User")
    assert note({"op": "drop_table", "table": "nope"}) == "no model in schema.prisma maps table nope; check it by hand"
    assert note({"op": "add_column", "table": "users", "column": "x", "type": "text"}) is None


def test_prisma_layout_notes_the_code_step(tmp_path):
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma/schema.prisma").write_text(SCHEMA)
    laid = get_writer("prisma").layout(plan_for("prisma"), tmp_path, "prisma/migrations", NOW)
    code = next(s for s in laid.steps if s.phase == "code")
    assert code.title.endswith('; in schema.prisma: in model User, field email maps the new column: email String '
                               '@unique @map("email_address") (written with the plan; application code needs no '
                               'change); to rename the field too: email_address String @unique, and rename email to '
                               'email_address in: @@index([email, name])')
    again = get_writer("prisma").layout(laid, tmp_path, "prisma/migrations", NOW)
    assert next(s for s in again.steps if s.phase == "code").title == code.title


def test_prisma_code_note_on_umami():
    path = FIXTURES_REAL / "prisma-umami" / "prisma" / "schema.prisma"
    if not path.is_file():
        pytest.skip(f"umami fixture not present: {path}")
    text = path.read_text()
    plan = lambda ops: Plan(description="x", type="safe", tool="prisma",  # noqa: E731
                            operations=parse_operations(ops), steps=[])
    rename = code_note(plan({"op": "rename_column", "table": "website_event", "column": "url_path",
                             "new_name": "page_path"}), text)
    assert rename.startswith('in model WebsiteEvent, field urlPath maps the new column: urlPath String '
                             '@db.VarChar(500) @map("page_path") (written with the plan; application code needs no '
                             'change); to rename the field too: pagePath String @db.VarChar(500) @map("page_path"), '
                             'and rename urlPath to pagePath in: @@index([websiteId, createdAt, urlPath])')
    own = code_note(plan({"op": "rename_column", "table": "user", "column": "user_id", "new_name": "account_id"}),
                    text)
    assert own == ('in model User, field id maps the new column: id String @id() @db.Uuid @map("account_id") '
                   '(written with the plan; application code needs no change)')
    assert code_note(plan({"op": "rename_table", "table": "website_event", "new_name": "events"}), text) == (
        'model WebsiteEvent @@map("website_event") becomes @@map("events") (written with the plan; application code '
        'needs no change)')
    drop = code_note(plan({"op": "drop_column", "table": "website", "column": "team_id"}), text)
    assert drop.startswith("in model Website, delete the field line: teamId    String?   @map(\"team_id\") @db.Uuid")
    assert "@@index([teamId])" in drop
