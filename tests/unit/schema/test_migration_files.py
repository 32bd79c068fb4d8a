"""schema/migration_files.py: the one reader of migration file formats (what runs up,
what runs down, in which order a tool runs a folder), and the one folder replay with
its one error policy, as validate, schema reading and verify use them. The callers that
read a goose or flyway folder through the dev database: tests/integration/schema/test_migration_files_devdb.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pglast import ast

from flux_agent.entry import actions as tools
from flux_agent.errors import FluxInputError, FluxInternalError
from flux_agent.model.plan import Plan, Step
from flux_agent.schema.migration_files import has_down_sql, is_down_file, read_sections, side_files, up_section, up_sql_of
from flux_agent.schema.migration_order import migration_files
from flux_agent.schema.replay import statements
from flux_agent.schema.replay.engine import FolderReplay, replay_folder
from flux_agent.verify.pending import schema_before
from flux_agent.write.deploy_groups import PlanRecord

from shop import ROOT


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def names(files: list[Path], root: Path) -> list[str]:
    return [f.relative_to(root).as_posix() for f in files]


# -- one file ---------------------------------------------------------------------------------------


def test_dbmate_sections_follow_dbmates_own_marker_rule(tmp_path):
    text = "-- a comment\n-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n" \
           "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY i;\n"
    sec = read_sections(tmp_path / "1_x.sql", text)
    assert (sec.up, sec.up_line, sec.down) == ("CREATE INDEX CONCURRENTLY i ON t (a);\n", 2,
                                               "DROP INDEX CONCURRENTLY i;\n")
    assert (sec.transactional, sec.one_query) == (False, True)
    # dbmate's regex: `^--\s*migrate:up(\s|$)`, case as written; options are key:value words.
    assert read_sections(tmp_path / "2.sql", "--migrate:up\nSELECT 1;").up == "SELECT 1;"
    assert read_sections(tmp_path / "3.sql", "-- migrate:up\nSELECT 1;").transactional is True
    for not_a_marker in ("-- MIGRATE:UP", "-- migrate:upgrade", "-- note: migrate:up"):
        sec = read_sections(tmp_path / "4.sql", f"{not_a_marker}\nSELECT 1;\n")
        assert (sec.up, sec.down) == (f"{not_a_marker}\nSELECT 1;\n", None)
    assert read_sections(tmp_path / "5.sql", "-- migrate:up transactional:falsey\nSELECT 1;").transactional


def test_goose_sections_any_case_and_no_transaction(tmp_path):
    text = "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- +goose down\nDROP INDEX i;\n"
    sec = read_sections(tmp_path / "00002_i.sql", text)
    assert (sec.up, sec.up_line, sec.down, sec.transactional, sec.one_query) == (
        "CREATE INDEX CONCURRENTLY i ON t (a);", 2, "DROP INDEX i;\n", False, False)
    assert read_sections(tmp_path / "00003_j.sql", "-- +goose Up\nSELECT 1;\n").transactional is True


def test_sql_migrate_sections_turn_with_each_marker_and_keep_their_lines(tmp_path):
    """rubenv/sql-migrate (frain-dev/convoy's 107 files): `-- +migrate Up` and `Down` may come more
    than once; each turns the lines after it. Read as one up part, convoy's down sections (DROP
    TABLE ...) were judged as up: 861 errors, 237 of them unknown tables; read so, 166 and none."""
    text = ("-- +migrate Up\nCREATE TABLE a (id bigint);\n-- +migrate Up\nCREATE TABLE b (id bigint);\n"
            "-- +migrate Down\nDROP TABLE b;\n-- +migrate Up\nCREATE INDEX a_i ON a (id);\n"
            "-- +migrate Down\nDROP TABLE a;\n")
    sec = read_sections(tmp_path / "1677078479.sql", text)
    up = [(n + 1, line) for n, line in enumerate(sec.up.split("\n"), start=sec.up_line) if line.strip()]
    down = [(n + 1, line) for n, line in enumerate(sec.down.split("\n")) if line.strip()]
    assert up == [(2, "CREATE TABLE a (id bigint);"), (4, "CREATE TABLE b (id bigint);"),
                  (8, "CREATE INDEX a_i ON a (id);")]
    assert down == [(6, "DROP TABLE b;"), (10, "DROP TABLE a;")]
    assert (sec.transactional, sec.one_query) == (True, False)
    quiet = read_sections(tmp_path / "2.sql", "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n")
    assert (quiet.transactional, quiet.down) == (False, None)
    # sql-migrate's own word, as it spells it: `+migrate`; a comment that merely mentions it is SQL.
    assert read_sections(tmp_path / "3.sql", "-- see +migrate docs\nSELECT 1;\n").up == "-- see +migrate docs\nSELECT 1;\n"


def test_validate_judges_a_sql_migrate_files_up_lines_only(tmp_path, monkeypatch):
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    folder = tmp_path / "sql"
    write(folder, "1677078479.sql", """
        -- +migrate Up
        CREATE TABLE convoy_users (id bigint PRIMARY KEY, email text);
        -- +migrate Down
        DROP TABLE convoy_users;
        """)
    write(folder, "1677078480.sql", """
        -- +migrate Up
        SET lock_timeout = '2s';
        SET statement_timeout = '30s';
        ALTER TABLE convoy_users ALTER COLUMN email SET NOT NULL;
        -- +migrate Down
        ALTER TABLE convoy_users ALTER COLUMN email DROP NOT NULL;
        DROP TABLE convoy_users;
        """)
    _, findings = tools.validate_paths([str(folder)], str(tmp_path))
    assert {(Path(f.path).name, f.line, f.rule) for f in findings} == {
        ("1677078480.sql", 4, "adding-not-nullable-field")}


def test_a_folder_per_migration_keeps_its_down_in_down_sql(tmp_path, monkeypatch):
    """Prisma's <stamp>_<name>/migration.sql and diesel's <version>_<name>/up.sql keep their down in
    the down.sql beside them (Flux writes Prisma's): it is their down part, never a migration of its
    own. Before, validate judged each down.sql as an up migration (lemmy's 342 diesel migrations: 684
    files, 4,990 errors; a Prisma plan's own rollback: ban-drop-table)."""
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    prisma = tmp_path / "prisma" / "migrations"
    write(prisma, "20240101000000_init/migration.sql", 'CREATE TABLE "A" ("id" TEXT);\n')
    write(prisma, "20240101000000_init/down.sql", 'DROP TABLE "A";\n')
    write(prisma, "20240102000000_more/migration.sql", 'ALTER TABLE "A" ADD COLUMN "b" TEXT;\n')
    diesel = tmp_path / "migrations"
    write(diesel, "00000000000000_diesel_initial_setup/up.sql", "CREATE TABLE a (id bigint);\n")
    write(diesel, "00000000000000_diesel_initial_setup/down.sql", "DROP TABLE a;\n")
    write(diesel, "2019-02-26-002946_more/up.sql", "CREATE INDEX CONCURRENTLY a_id ON a (id);\n")
    write(diesel, "2019-02-26-002946_more/down.sql", "DROP INDEX a_id;\n")
    write(diesel, "2019-02-26-002946_more/metadata.toml", "run_in_transaction = false\n")

    init = read_sections(prisma / "20240101000000_init" / "migration.sql", 'CREATE TABLE "A" ("id" TEXT);\n')
    assert (init.down, init.one_query) == ('DROP TABLE "A";\n', True)
    assert read_sections(prisma / "20240102000000_more" / "migration.sql", "SELECT 1;").down is None
    first = read_sections(diesel / "00000000000000_diesel_initial_setup" / "up.sql", "CREATE TABLE a (id bigint);\n")
    assert (first.down, first.transactional, first.one_query) == ("DROP TABLE a;\n", True, True)
    more = read_sections(diesel / "2019-02-26-002946_more" / "up.sql", "SELECT 1;")
    assert (more.down, more.transactional) == ("DROP INDEX a_id;\n", False)
    assert all(is_down_file(folder / "down.sql") for folder in [*prisma.iterdir(), *diesel.iterdir()]
               if (folder / "down.sql").exists())
    assert names(migration_files(diesel), tmp_path) == ["migrations/00000000000000_diesel_initial_setup/up.sql",
                                                        "migrations/2019-02-26-002946_more/up.sql"]
    (tmp_path / "elsewhere").mkdir()  # no project: each folder is its own history
    files, findings = tools.validate_paths([str(prisma), str(diesel)], str(tmp_path / "elsewhere"))
    assert [Path(f).name for f in files] == ["migration.sql", "migration.sql", "up.sql", "up.sql"]
    assert not [f for f in findings if f.severity == "error"], [(f.path, f.rule) for f in findings]


def test_formats_with_the_down_in_a_file_of_its_own(tmp_path):
    up = write(tmp_path, "mig/000001_t.up.sql", "CREATE TABLE t (a int);\n")
    assert read_sections(up, up.read_text()).down == ""  # a missing down file: an empty down
    write(tmp_path, "mig/000001_t.down.sql", "DROP TABLE t;\n")
    sec = read_sections(up, up.read_text())
    assert (sec.down, sec.one_query, sec.transactional) == ("DROP TABLE t;\n", True, False)
    # golang-migrate pairs an up and a down by version, whatever their names say (ente's
    # 30_add_magic_metadata.up.sql and 30_drop_magic_metadata.down.sql): no false missing-rollback
    up2 = write(tmp_path, "mig/000002_add_nick.up.sql", "ALTER TABLE t ADD COLUMN nick text;\n")
    write(tmp_path, "mig/000002_drop_nick.down.sql", "ALTER TABLE t DROP COLUMN nick;\n")
    write(tmp_path, "mig/000020_other.down.sql", "SELECT 20;\n")
    assert read_sections(up2, up2.read_text()).down == "ALTER TABLE t DROP COLUMN nick;\n"
    assert side_files(up2) == [str(tmp_path / "mig/000002_add_nick.down.sql"), str(tmp_path / "mig/000002_drop_nick.down.sql")]
    write(tmp_path, "mig/000002_add_nick.down.sql", "SELECT 2;\n")  # the same name's, where there is one
    assert read_sections(up2, up2.read_text()).down == "SELECT 2;\n"
    assert side_files(up2) == [str(tmp_path / "mig/000002_add_nick.down.sql")]
    # flyway: the U-file of the same version undoes a V-file, whatever its description says
    v = write(tmp_path, "flyway/V1_1__create_t.sql", "CREATE TABLE t (a int);\n")
    assert read_sections(v, v.read_text()).down == ""
    write(tmp_path, "flyway/U1.1__drop_it.sql", "DROP TABLE t;\n")
    write(tmp_path, "flyway/U11__other.sql", "DROP TABLE other;\n")
    assert read_sections(v, v.read_text()).down == "DROP TABLE t;\n"
    # sqitch: revert/<change>.sql undoes deploy/<change>.sql
    write(tmp_path, "sq/sqitch.plan", "%project=x\nt 2024-01-01T00:00:00Z A <a@x> # t\n")
    deploy = write(tmp_path, "sq/deploy/t.sql", "BEGIN;\nCREATE TABLE t (a int);\nCOMMIT;\n")
    write(tmp_path, "sq/revert/t.sql", "BEGIN;\nDROP TABLE t;\nCOMMIT;\n")
    assert read_sections(deploy, deploy.read_text()).down == "BEGIN;\nDROP TABLE t;\nCOMMIT;\n"
    # prisma and a plain file have no down part to judge
    prisma = write(tmp_path, "prisma/migrations/20240101000000_t/migration.sql", "CREATE TABLE t (a int);\n")
    assert read_sections(prisma, prisma.read_text()).down is None


def test_a_file_that_only_runs_down_has_no_up_sql(tmp_path):
    write(tmp_path, "sq/sqitch.plan", "%project=x\n")
    for rel in ("m/1_t.down.sql", "flyway/U2__t.sql", "sq/revert/t.sql", "sq/verify/t.sql"):
        path = write(tmp_path, rel, "DROP TABLE t;\n")
        assert is_down_file(path), rel
        assert up_sql_of(path, path.read_text()) == "" and read_sections(path, path.read_text()).up == "", rel
    for rel in ("m/1_t.up.sql", "flyway/V2__t.sql", "sq/deploy/t.sql", "other/revert/t.sql", "m/Update_t.sql"):
        assert not is_down_file(write(tmp_path, rel, "SELECT 1;\n")), rel


def test_node_pg_migrate_sql_migrations_have_an_up_and_a_down_part(tmp_path):
    """node-pg-migrate's .sql migrations mark `-- Up Migration` and `-- Down Migration` (any case, either
    first): read whole as up and outside a transaction, their DROP TABLE down was judged as run up
    (ban-drop-table, destructive-outside-contract) and every statement as outside a transaction."""
    path = write(tmp_path, "migrations/1700000000000_accounts.sql",
                 "-- Up Migration\nCREATE TABLE accounts (id bigint PRIMARY KEY);\n\n-- Down Migration\nDROP TABLE accounts;\n")
    sec = read_sections(path, path.read_text())
    assert (sec.up.strip(), sec.down.strip(), sec.transactional, sec.one_query, sec.up_line, sec.down_line) == (
        "CREATE TABLE accounts (id bigint PRIMARY KEY);", "DROP TABLE accounts;", True, True, 1, 4)
    first_down = write(tmp_path, "migrations/1700000000001_b.sql",
                       "--- down migration\nDROP TABLE b;\n--- up migration\nCREATE TABLE b (id bigint);\n")
    sec = read_sections(first_down, first_down.read_text())
    assert (sec.up.strip(), sec.down.strip()) == ("CREATE TABLE b (id bigint);", "DROP TABLE b;")
    # Another tool's file whose comment says "up migration" keeps that tool's markers
    dbmate = write(tmp_path, "db/1_c.sql", "-- migrate:up\n-- Up migration of c\nCREATE TABLE c (id int);\n"
                                           "-- migrate:down\nDROP TABLE c;\n")
    assert read_sections(dbmate, dbmate.read_text()).down.strip() == "DROP TABLE c;"
    found = tools.validate_migration([str(tmp_path / "migrations")], str(tmp_path), tool="node-pg-migrate")
    assert [f.rule for f in found if f.severity == "error"] == []


def test_goose_envsub_sections_take_the_environments_values(tmp_path, monkeypatch):
    """`-- +goose ENVSUB ON` makes goose substitute ${NAME} from the environment until ENVSUB OFF: the
    file was a syntax error (`CREATE TABLE ${PREFIX}audit`) and its table missing from the schema."""
    monkeypatch.setenv("FLUX_TEST_PREFIX", "app_")
    monkeypatch.delenv("FLUX_TEST_UNSET", raising=False)
    path = write(tmp_path, "00001_audit.sql", (
        "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE ${FLUX_TEST_PREFIX}audit (id bigint);\n"
        "CREATE TABLE ${FLUX_TEST_UNSET:-plain}_log (id bigint);\nCREATE TABLE t${FLUX_TEST_UNSET} (id bigint);\n"
        "-- +goose ENVSUB OFF\nCOMMENT ON TABLE app_audit IS '${FLUX_TEST_PREFIX}';\n"
        "-- +goose Down\n-- +goose ENVSUB ON\nDROP TABLE ${FLUX_TEST_PREFIX}audit;\n"))
    sec = read_sections(path, path.read_text())
    assert "CREATE TABLE app_audit (id bigint);\nCREATE TABLE plain_log (id bigint);\nCREATE TABLE t (id bigint);" in sec.up
    assert "IS '${FLUX_TEST_PREFIX}'" in sec.up  # after ENVSUB OFF: as written
    assert sec.down.strip().endswith("\nDROP TABLE app_audit;")
    assert [t.name for t in replay_folder(tmp_path, "goose").tables] == ["app_audit", "plain_log", "t"]


def test_has_down_sql(tmp_path):
    assert has_down_sql(write(tmp_path, "1.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n"))
    assert not has_down_sql(write(tmp_path, "2.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n-- nothing\n"))
    assert has_down_sql(write(tmp_path, "3.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\nDROP TABL x;\n"))
    assert not has_down_sql(write(tmp_path, "4.sql", "SELECT 1;\n"))
    assert not has_down_sql(tmp_path / "missing.sql")
    # goose create's template: its Down holds a placeholder, no rollback (missing-rollback did not say so)
    goose = ("-- +goose Up\nALTER TABLE t ADD COLUMN c text;\n\n-- +goose Down\n-- +goose StatementBegin\n"
             "SELECT 'down SQL query';\n-- +goose StatementEnd\n")
    assert not has_down_sql(write(tmp_path, "5_goose.sql", goose))
    assert has_down_sql(write(tmp_path, "6_goose.sql", goose.replace("SELECT 'down SQL query';",
                                                                     "ALTER TABLE t DROP COLUMN c;")))


def _every_migration_file() -> list[Path]:
    found = [p for base in (ROOT / "examples", ROOT / "tests" / "corpus", ROOT.parent / "shared" / "fixtures" / "real")
             if base.is_dir() for p in base.rglob("*.sql")]
    assert len(found) > 50
    return found


def test_validate_and_replay_read_the_same_up_sql_from_every_file():
    # They used to parse sections apart (lint's and replay's own marker rules) and drifted.
    for path in _every_migration_file():
        text = path.read_text(encoding="utf-8", errors="replace")
        sec = read_sections(path, text)
        assert up_section(path, text) == (sec.up_line + 1, sec.up), path


@pytest.mark.parametrize("breaker", ["\x0c", "\u2028", "\x1c", "\x85"])
def test_finding_lines_count_newlines_only(tmp_path, breaker):
    # lint once split lines at any Unicode line break, so a form feed (or \u2028, ...) in a
    # comment above the marker moved every finding's line; PostgreSQL counts newlines.
    path = write(tmp_path, "db/migrations/20240101000000_i.sql",
                 f"-- page one{breaker}page two\n-- migrate:up\nCREATE INDEX i ON t (a);\n-- migrate:down\nDROP INDEX i;\n")
    found = tools.validate_migration([str(path)], str(tmp_path))
    assert {f.line for f in found if f.rule == "require-concurrent-index-creation"} == {3}


# -- a folder ---------------------------------------------------------------------------------------


def test_each_tool_runs_a_folder_in_its_own_order(tmp_path):
    for name in ("V2__b.sql", "V10__c.sql", "V1__a.sql", "V1.1__a2.sql", "U2__b.sql", "V2__b.sql.conf", "R__view.sql"):
        write(tmp_path, f"flyway/{name}", "SELECT 1;\n")
    assert names(migration_files(tmp_path / "flyway", "flyway"), tmp_path / "flyway") == [
        "V1__a.sql", "V1.1__a2.sql", "V2__b.sql", "V10__c.sql", "R__view.sql"]
    for name in ("10_c.up.sql", "2_b.up.sql", "1_a.up.sql", "2_b.down.sql"):
        write(tmp_path, f"gm/{name}", "SELECT 1;\n")
    # golang-migrate and goose order by the version number; dbmate by name.
    assert names(migration_files(tmp_path / "gm", "golang-migrate"), tmp_path / "gm") == [
        "1_a.up.sql", "2_b.up.sql", "10_c.up.sql"]
    assert names(migration_files(tmp_path / "gm", "dbmate"), tmp_path / "gm") == [
        "10_c.up.sql", "1_a.up.sql", "2_b.up.sql"]
    for name in ("3_c.sql", "20_d.sql", "1_a.sql"):
        write(tmp_path, f"goose/{name}", "-- +goose Up\nSELECT 1;\n")
    assert names(migration_files(tmp_path / "goose", "goose"), tmp_path / "goose") == ["1_a.sql", "3_c.sql", "20_d.sql"]
    write(tmp_path, "sq/sqitch.plan", """
        %project=x
        zeta 2024-01-01T00:00:00Z A <a@x> # first
        @v1 2024-01-01T00:00:00Z A <a@x> # a tag
        +alpha [zeta] 2024-01-02T00:00:00Z A <a@x> # second
        gone 2024-01-03T00:00:00Z A <a@x> # its script is missing
    """)
    for name in ("deploy/alpha.sql", "deploy/zeta.sql", "revert/zeta.sql", "verify/zeta.sql"):
        write(tmp_path, f"sq/{name}", "SELECT 1;\n")
    assert names(migration_files(tmp_path / "sq", "sqitch"), tmp_path / "sq") == ["deploy/zeta.sql", "deploy/alpha.sql"]
    # A change reworked after a tag: where it is listed first, the copy `sqitch rework` kept runs
    write(tmp_path, "rw/sqitch.plan", """
        greet 2024-01-01T00:00:00Z A <a@x> # first
        @v1 2024-01-01T00:00:00Z A <a@x> # a tag
        other [greet] 2024-01-02T00:00:00Z A <a@x> # between
        @v2 2024-01-02T00:00:00Z A <a@x> # another
        greet [greet@v1] 2024-01-03T00:00:00Z A <a@x> # reworked
    """)
    for name in ("greet.sql", "greet@v1.sql", "other.sql"):
        write(tmp_path, f"rw/deploy/{name}", "SELECT 1;\n")
    assert names(migration_files(tmp_path / "rw", "sqitch"), tmp_path / "rw") == [
        "deploy/greet@v1.sql", "deploy/other.sql", "deploy/greet.sql"]
    for name in ("20240102000000_b/migration.sql", "20240101000000_a/migration.sql", "migration_lock.toml"):
        write(tmp_path, f"prisma/{name}", "SELECT 1;\n")
    assert names(migration_files(tmp_path / "prisma", "prisma"), tmp_path / "prisma") == [
        "20240101000000_a/migration.sql", "20240102000000_b/migration.sql"]
    # drizzle: a by-hand file sorts between the journal entries it runs between
    for name in ("0001_b.sql", "0000_a.sql", "0001-01_manual_x.sql", "0001-01_manual_x.down.sql"):
        write(tmp_path, f"drizzle/{name}", "SELECT 1;\n")
    assert names(migration_files(tmp_path / "drizzle", "drizzle"), tmp_path / "drizzle") == [
        "0000_a.sql", "0001-01_manual_x.sql", "0001_b.sql"]
    assert migration_files(tmp_path / "absent", "flyway") == []


def test_flyway_runs_the_newest_baseline_then_the_versions_above_it_then_the_repeatables(tmp_path):
    """On an empty database Flyway runs the newest B-file instead of the V-files up to its version,
    then the V-files above it, then the R-files by description (hawkbit keeps one B-file and the
    V-files after it: every later file was judged without its tables, and the B-file as run outside a
    transaction). B- and R-files run in a transaction as V-files do, unless their .conf says not."""
    folder = tmp_path / "flyway"
    for name in ("V1__a.sql", "V2__b.sql", "B1__old_base.sql", "B2__base.sql", "V2.1__c.sql", "V3__d.sql",
                 "U3__d.sql", "R__views.sql", "R__functions.sql"):
        write(folder, name, "SELECT 1;\n")
    assert names(migration_files(folder, "flyway"), folder) == [
        "B2__base.sql", "V2.1__c.sql", "V3__d.sql", "R__functions.sql", "R__views.sql"]
    def sections(name: str):
        return read_sections(folder / name, (folder / name).read_text())

    for name in ("B2__base.sql", "R__views.sql", "V3__d.sql"):
        assert sections(name).transactional and sections(name).up == "SELECT 1;\n", name
    assert sections("B2__base.sql").down is None and sections("V3__d.sql").down == "SELECT 1;\n"
    write(folder, "R__views.sql.conf", "executeInTransaction=false\n")
    assert not sections("R__views.sql").transactional
    assert str(folder / "R__views.sql.conf") in side_files(folder / "R__views.sql")


def _three_files(folder: Path, broken: str) -> None:
    write(folder, "1_a.sql", "CREATE TABLE a (id int);\n")
    write(folder, "2_b.sql", f"CREATE TABLE b (id int);\n{broken}\n")
    write(folder, "3_c.sql", "CREATE TABLE c (id int);\n")


def test_a_broken_file_stops_the_replay_naming_it_with_its_kind(tmp_path):
    _three_files(tmp_path, "ALTER TABLE b ADD COLUMN;")
    with pytest.raises(FluxInputError, match=r"2_b\.sql: cannot parse SQL \(line 2\)"):
        replay_folder(tmp_path)
    (tmp_path / "2_b.sql").write_bytes(b"CREATE TABLE b (id int);\n-- \xff\n")
    with pytest.raises(FluxInputError, match=r"2_b\.sql: cannot read"):
        replay_folder(tmp_path)


def test_skip_broken_leaves_a_broken_file_out_whole(tmp_path, monkeypatch):
    def crash(state, node):
        raise RuntimeError("a shape replay does not know")

    # An index statement replay cannot follow, after a table the same file creates.
    monkeypatch.setitem(statements._HANDLERS, ast.IndexStmt, crash)
    _three_files(tmp_path, "CREATE INDEX b_i ON b (id);")
    with pytest.raises(FluxInternalError, match=r"2_b\.sql: cannot replay statement at line 2"):
        replay_folder(tmp_path)
    assert [t.name for t in replay_folder(tmp_path, skip_broken=True).tables] == ["a", "c"]  # no b
    history = FolderReplay(tmp_path, skip_broken=True)
    assert [[t.name for t in history.advance().tables] for _ in range(3)] == [["a"], ["a"], ["a", "c"]]


# -- the callers: validate's history, verify's schema before a plan -----------------------------------------


def _flyway(root: Path) -> Path:
    folder = root / "db" / "migration"
    write(folder, "V1__orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY);\n")
    write(folder, "U1__orders.sql", "DROP TABLE orders;\n")
    write(folder, "V2__note.sql", "ALTER TABLE orders ADD COLUMN note text;\n")
    write(folder, "U2__note.sql", "ALTER TABLE orders DROP COLUMN note;\n")
    write(folder, "V10__index.sql", "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\n")
    write(folder, "V10__index.sql.conf", "executeInTransaction=false\n")
    return folder


def test_validate_judges_sqitch_deploy_scripts_in_plan_order(tmp_path):
    write(tmp_path, "sqitch.plan", """
        %project=shop
        a_users 2024-01-01T00:00:00Z A <a@x> # users
        c_orders [a_users] 2024-01-02T00:00:00Z A <a@x> # orders
        b_note [c_orders] 2024-01-03T00:00:00Z A <a@x> # a column on orders
    """)
    write(tmp_path, "deploy/a_users.sql", "BEGIN;\nCREATE TABLE users (id bigint PRIMARY KEY);\nCOMMIT;\n")
    write(tmp_path, "deploy/c_orders.sql", "BEGIN;\nCREATE TABLE orders (id bigint PRIMARY KEY);\nCOMMIT;\n")
    write(tmp_path, "deploy/b_note.sql", "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;\n")
    for change, undo in (("a_users", "DROP TABLE users;"), ("c_orders", "DROP TABLE orders;"), ("b_note", "")):
        write(tmp_path, f"revert/{change}.sql", f"BEGIN;\n{undo}\nCOMMIT;\n")
    found = tools.validate_migration([str(tmp_path / "deploy")], str(tmp_path), tool="sqitch")
    # By name, b_note came before c_orders and named a table that did not exist yet.
    assert sorted({(Path(f.path).name, f.rule) for f in found if f.severity == "error"}) == []


def test_sqitch_changes_named_with_folders_and_the_projects_other_sql(tmp_path):
    """BeeeOn's changes are named `app/orders` (deploy/app/orders.sql, revert/app/orders.sql), and its
    sqitch folder keeps pgTAP tests and queries beside them: `flux validate` of the folder judged the
    revert scripts as migrations (ban-drop-table, destructive-outside-contract) and the tests (\\set: syntax errors)."""
    from flux_agent.lint.files import expand_paths

    write(tmp_path, "sqitch.plan", """
        %project=shop
        app/users 2024-01-01T00:00:00Z A <a@x> # users
        app/orders [app/users] 2024-01-02T00:00:00Z A <a@x> # orders
    """)
    # psql runs the scripts: its meta-commands are its own, not SQL (a syntax error, the file left out)
    write(tmp_path, "deploy/app/users.sql", "\\set ON_ERROR_STOP on\nBEGIN;\nCREATE TABLE users (id bigint PRIMARY KEY);\nCOMMIT;\n")
    orders = write(tmp_path, "deploy/app/orders.sql", "BEGIN;\nCREATE TABLE orders (id bigint PRIMARY KEY);\nCOMMIT;\n")
    write(tmp_path, "revert/app/users.sql", "BEGIN;\nDROP TABLE users;\nCOMMIT;\n")
    write(tmp_path, "revert/app/orders.sql", "BEGIN;\nDROP TABLE orders;\nCOMMIT;\n")
    write(tmp_path, "verify/app/orders.sql", "SELECT id FROM orders WHERE false;\n")
    write(tmp_path, "test/orders.sql", "\\set ON_ERROR_STOP on\nSELECT plan(1);\n")
    assert is_down_file(tmp_path / "revert/app/orders.sql") and is_down_file(tmp_path / "verify/app/orders.sql")
    assert read_sections(orders, orders.read_text()).down == "BEGIN;\nDROP TABLE orders;\nCOMMIT;\n"
    assert side_files(orders) == [str(tmp_path / "revert/app/orders.sql"), str(tmp_path / "sqitch.plan")]
    assert [p.relative_to(tmp_path).as_posix() for p in expand_paths([str(tmp_path)], "sqitch")] == [
        "deploy/app/orders.sql", "deploy/app/users.sql"]
    found = tools.validate_migration([str(tmp_path)], str(tmp_path), tool="sqitch")
    assert sorted({(Path(f.path).relative_to(tmp_path).as_posix(), f.rule) for f in found if f.severity == "error"}) == []
    assert up_sql_of(tmp_path / "deploy/app/users.sql", (tmp_path / "deploy/app/users.sql").read_text()).startswith(
        "\nBEGIN;\n")  # the line blanked, the lines counted as before
    assert [t.name for t in replay_folder(tmp_path, "sqitch").tables] == ["users", "orders"]


def test_verify_starts_from_the_flyway_folder_in_version_order_without_the_plans_files(tmp_path):
    folder = _flyway(tmp_path)
    write(folder, "V11__flux_step.sql", "ALTER TABLE orders ADD COLUMN written_by_the_plan text;\n")
    step = Step(number=1, phase="expand", title="add a column", files=["db/migration/V11__flux_step.sql"],
                up_sql="ALTER TABLE orders ADD COLUMN written_by_the_plan text;")
    plan = Plan(description="x", type="safe", tool="flyway", operations=[], steps=[step])
    record = PlanRecord(id="p", plan=plan, migrations_dir="db/migration", written=[1])
    table = schema_before(tmp_path, record).table("orders")
    # By name, U1 dropped nothing, V10 came before V1 and its index was lost.
    assert [c.name for c in table.columns] == ["id", "note"]
    assert "orders_note_idx" in [i.name for i in table.indexes]


def test_a_folders_undo_files_are_listed_once_while_it_is_unchanged(tmp_path, monkeypatch):
    """Every Flyway V-file asks for its U-file (validate's cache keys, its down part): the folder is
    listed once, and again once it changed."""
    import os

    from flux_agent.schema import migration_files

    monkeypatch.setattr(migration_files, "_RACY_NS", 0)  # the folder below is a moment old, not seconds
    folder = tmp_path / "db"
    for v in range(1, 6):
        write(folder, f"V{v}__step.sql", "SELECT 1;\n")
    write(folder, "U2__undo_it.sql", "SELECT 2;\n")
    listed: list = []
    real = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path=".": listed.append(path) or real(path))
    undo = [os.path.basename(migration_files.side_files(folder / f"V{v}__step.sql")[0]) for v in range(1, 6)]
    assert undo == ["U1__step.sql", "U2__undo_it.sql", "U3__step.sql", "U4__step.sql", "U5__step.sql"]
    assert len(listed) == 1
    write(folder, "U4__undo_that.sql", "SELECT 4;\n")
    os.utime(folder, ns=(1, 1))  # its times differ from the ones listed, whatever the clock's grain
    assert os.path.basename(migration_files.side_files(folder / "V4__step.sql")[0]) == "U4__undo_that.sql"
    assert len(listed) == 2


def test_a_folder_in_a_format_flux_reads_but_does_not_write_is_named(tmp_path):
    from flux_agent.schema.migration_files import unwritten_format

    diesel = tmp_path / "diesel"
    (diesel / "2024-01-01-000000_create").mkdir(parents=True)
    (diesel / "2024-01-01-000000_create" / "up.sql").write_text("CREATE TABLE t (id int);\n")
    (diesel / "2024-01-01-000000_create" / "down.sql").write_text("DROP TABLE t;\n")
    assert unwritten_format(diesel) == "diesel's <version>_<name>/up.sql and down.sql"
    marked = tmp_path / "sql"
    marked.mkdir()
    (marked / "1_a.sql").write_text("-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n")
    assert unwritten_format(marked) == "rubenv/sql-migrate's files (-- +migrate Up / Down)"
    dbmate = tmp_path / "db"
    dbmate.mkdir()
    (dbmate / "1_a.sql").write_text("-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n")
    (dbmate / "notes").mkdir()  # a folder, but no migration's
    assert unwritten_format(dbmate) is None and unwritten_format(tmp_path / "missing") is None
    # sqlx's (atuin's server): files run whole, where a down section would run after the up one
    whole = tmp_path / "whole"
    whole.mkdir()
    (whole / "20210425153745_create_history.sql").write_text("CREATE TABLE history (id bigserial PRIMARY KEY);\n")
    (whole / "20220419082412_add_count.sql").write_text("ALTER TABLE history ADD COLUMN n int;\n")
    assert unwritten_format(whole).startswith("plain SQL files, each run whole")
    (whole / "20261205000000_flux_step.sql").write_text("-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n")
    assert unwritten_format(whole) is None  # dbmate's format is the folder's newest: it is kept


def test_drizzle_runs_what_its_journal_lists(tmp_path):
    """drizzle-kit migrate runs the journal's entries only: a file beside them (dokploy's
    0130_abandoned_dagger.sql, left after a merge) never ran, and replaying it made a false
    'already exists' on every plan; Flux's by-hand files (NNNN-KK_manual_) run between entries."""
    import json

    from flux_agent.schema.migration_order import migration_files

    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "_journal.json").write_text(json.dumps({"version": "7", "dialect": "postgresql", "entries": [
        {"idx": 0, "tag": "0000_init"}, {"idx": 1, "tag": "0001_second"}]}))
    for name in ("0000_init.sql", "0001_second.sql", "0001_abandoned.sql", "0001-01_manual_build_index.sql",
                 "0001_second.down.sql"):
        (tmp_path / name).write_text("SELECT 1;\n")
    assert [p.name for p in migration_files(tmp_path, "drizzle")] == [
        "0000_init.sql", "0001-01_manual_build_index.sql", "0001_second.sql"]
    assert len(migration_files(tmp_path, "sql")) == 4  # another tool's folder: every file
    (tmp_path / "meta" / "_journal.json").write_text("{")  # a journal Flux cannot read: every file counts
    assert len(migration_files(tmp_path, "drizzle")) == 4


def test_a_flyway_folder_is_judged_from_its_baseline(tmp_path):
    """The V-file after a baseline is judged against the tables the B-file makes, and the B-file as
    run in a transaction (hawkbit: 169 findings, 10 errors -> 53, the false ones gone)."""
    from flux_agent.entry.validate import validate_paths

    folder = tmp_path / "src" / "main" / "resources" / "db" / "migration"
    write(folder, "V1__gone.sql", "CREATE TABLE gone (id bigint PRIMARY KEY);\n")
    write(folder, "B2__base.sql", "CREATE TABLE t (id bigint PRIMARY KEY, a text);\nCREATE INDEX t_a ON t (a);\n")
    write(folder, "V3__index.sql", "SET lock_timeout = '1s';\nSET statement_timeout = '5s';\n"
                                   "CREATE INDEX t_id_a ON t (id, a);\n")
    _, found = validate_paths([folder], project_dir=str(tmp_path), tool="flyway")
    by_file = {}
    for f in found:
        by_file.setdefault(Path(f.path).name, set()).add(f.rule)
    assert "unknown-table-or-column" not in by_file.get("V3__index.sql", set())
    assert "require-concurrent-index-creation" in by_file["V3__index.sql"]  # judged, against t
    assert "prefer-robust-stmts" not in by_file.get("B2__base.sql", set())  # in a transaction


@pytest.mark.parametrize("sql, outside", [
    ("CREATE INDEX CONCURRENTLY e_at ON events (happened_at);", True),
    ("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS e_at ON events (happened_at);", True),
    ("DROP INDEX CONCURRENTLY IF EXISTS e_at;", True),
    ("VACUUM events;", True),
    ("REINDEX SCHEMA public;", True),
    ("ALTER SYSTEM SET work_mem = '64MB';", True),
    ("DISCARD ALL;", True),
    ("CREATE INDEX e_at ON events (happened_at);", False),
    ("REINDEX TABLE CONCURRENTLY events;", False),  # not on Flyway's list: it runs it in a transaction
    ("ANALYZE events;", False),
    ("-- CREATE INDEX CONCURRENTLY in a comment\nSELECT 'VACUUM';", False),
])
def test_flyway_runs_a_migration_outside_a_transaction_where_its_parser_says_so(tmp_path, sql, outside):
    """marquez's V47 (CREATE INDEX CONCURRENTLY, no .conf) was replayed in a transaction and skipped, and
    judged ban-concurrent-index-creation-in-transaction: Flyway's PostgreSQL parser runs such a migration
    outside one by itself."""
    folder = tmp_path / "db" / "migration"
    folder.mkdir(parents=True)
    (folder / "V1__init.sql").write_text("CREATE TABLE events (id bigint PRIMARY KEY, happened_at timestamptz);\n")
    (folder / "V2__change.sql").write_text(sql + "\n")
    for name, transactional in (("V2__change.sql", not outside), ("V1__init.sql", True)):
        assert read_sections(folder / name, (folder / name).read_text()).transactional is transactional
    if sql.startswith("CREATE INDEX CONCURRENTLY"):  # replayed, not skipped as a failure in a transaction
        assert [i.name for i in replay_folder(folder, "flyway").table("events").indexes] == ["events_pkey", "e_at"]
