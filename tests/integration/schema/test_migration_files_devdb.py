"""The folder order of schema/migration_files.py as the callers that read a project through the
dev database (PostgreSQL) see it: schema reading of a goose folder, validate's history of a
flyway folder. The formats and the replay on their own: tests/unit/schema/test_migration_files.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.entry import actions as tools

from tests.unit.schema.test_migration_files import _flyway, write

pytestmark = pytest.mark.pg  # read_schema and validate read the project through the dev database


def test_goose_versions_without_padding_replay_in_number_order(tmp_path):
    # By name, 10_ ran before 2_: its column went on a table that did not exist yet and was lost.
    write(tmp_path, "migrations/1_users.sql", "-- +goose Up\nCREATE TABLE users (id bigint PRIMARY KEY);\n")
    write(tmp_path, "migrations/2_orders.sql", "-- +goose Up\nCREATE TABLE orders (id bigint PRIMARY KEY);\n")
    write(tmp_path, "migrations/10_note.sql", "-- +goose Up\nALTER TABLE orders ADD COLUMN note text;\n")
    schema = tools.read_schema(str(tmp_path), tool="goose")
    assert [c.name for c in schema.table("orders").columns] == ["id", "note"]


def test_validate_judges_flyway_files_in_version_order_with_their_undo_files(tmp_path):
    folder = _flyway(tmp_path)
    found = tools.validate_migration([str(folder)], str(tmp_path), tool="flyway")
    by_file = sorted({(Path(f.path).name, f.rule) for f in found if f.severity == "error"})
    # V10 sees orders.note (V2 ran before it), the U-files are undo scripts rather than
    # migrations that drop tables, and V10 is the one file without its undo.
    assert by_file == [("V10__index.sql", "missing-rollback")]


def test_flyway_placeholders_are_replaced_before_postgresql_runs_the_files(tmp_path):
    """Flyway replaces ${name} before it runs a file; the dev database built from the files does the
    same (configured values, the default schema), and validate judges the files it builds."""
    write(tmp_path, "flyway.conf", "flyway.placeholders.schema=app\nflyway.placeholders.reader=app_reader\n")
    folder = tmp_path / "db" / "migration"
    write(folder, "V1__users.sql", "CREATE SCHEMA IF NOT EXISTS ${schema};\n"
                                   "CREATE TABLE ${schema}.users (id bigint PRIMARY KEY, email text);\n"
                                   "CREATE TABLE ${flyway:defaultSchema}.events (id bigint PRIMARY KEY);\n"
                                   "COMMENT ON TABLE ${schema}.users IS 'read by ${reader}';\n")
    write(folder, "V2__name.sql", "ALTER TABLE ${schema}.users ADD COLUMN name text;\n")
    write(folder, "V3__index.sql", "CREATE INDEX users_mail ON ${schema}.users (emial);\n")
    schema = tools.read_schema(str(tmp_path), tool="flyway")
    assert [c.name for c in schema.table("app.users").columns] == ["id", "email", "name"]
    assert schema.table("events") is not None
    found = tools.validate_migration([str(folder)], str(tmp_path), tool="flyway")
    assert not [f for f in found if f.rule == "syntax-error"]
    assert [(Path(f.path).name, f.line) for f in found if f.rule == "unknown-table-or-column"] == [("V3__index.sql", 1)]


def test_a_plan_written_into_a_flyway_folder_names_its_tables_with_the_folders_placeholders(tmp_path):
    """The folder qualifies names with ${schema} (app in flyway.conf): Flux plans against app.users
    as PostgreSQL builds it, and writes ${schema}.users back, in the statements and inside the DO
    blocks and strings of its steps, so the file follows the project's per-environment names; the
    written folder builds again with the column."""
    write(tmp_path, "flyway.conf", "flyway.placeholders.schema=app\n")
    folder = tmp_path / "db" / "migration"
    write(folder, "V1__users.sql", "CREATE SCHEMA IF NOT EXISTS ${schema};\n"
                                   "CREATE TABLE ${schema}.users (id bigint PRIMARY KEY, email text);\n")
    plan = tools.plan_migration([{"op": "add_column", "table": "app.users", "column": "nick", "type": "text",
                                  "nullable": False, "backfill": "'x'"}], str(tmp_path))
    assert any("app.users" in s.up_sql for s in plan.steps if s.up_sql)
    written = [tmp_path / f for f in tools.write_migration(plan, str(tmp_path)).files]
    ups = [p.read_text() for p in written if p.name.startswith("V")]
    sql_lines = [line for text in ups for line in text.splitlines() if not line.lstrip().startswith("--")]
    assert sql_lines and not [line for line in sql_lines if "app." in line]  # the step's title comment names it
    assert any("${schema}.users" in line for line in sql_lines)
    schema = tools.read_schema(str(tmp_path), tool="flyway")
    assert [c.name for c in schema.table("app.users").columns] == ["id", "email", "nick"]
