"""A drizzle step that must run outside a transaction is a `_manual_` file run by hand with psql
(drizzle-kit migrate wraps every pending entry in one transaction); in a folder that keeps
snapshots, a `_flux_check_` journal entry after it records its change and fails until it ran. The
summary says both, in the order they run, since the check entry is no step of the plan."""

from __future__ import annotations

import json

import pytest

from flux_agent.entry import actions as tools

SNAPSHOT = {
    "id": "11111111-1111-1111-1111-111111111111", "prevId": "00000000-0000-0000-0000-000000000000",
    "version": "7", "dialect": "postgresql",
    "tables": {"public.users": {
        "name": "users", "schema": "", "indexes": {}, "foreignKeys": {}, "compositePrimaryKeys": {},
        "uniqueConstraints": {}, "policies": {}, "checkConstraints": {}, "isRLSEnabled": False,
        "columns": {"id": {"name": "id", "type": "bigint", "primaryKey": True, "notNull": True},
                    "email": {"name": "email", "type": "text", "primaryKey": False, "notNull": False}}}},
    "enums": {}, "schemas": {}, "sequences": {}, "roles": {}, "policies": {}, "views": {},
    "_meta": {"columns": {}, "schemas": {}, "tables": {}},
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("FLUX_DEVDB", "off")  # the schema is read from drizzle's snapshot
    (tmp_path / "drizzle" / "meta").mkdir(parents=True)
    (tmp_path / "src").mkdir()
    (tmp_path / "drizzle.config.ts").write_text(
        'export default { dialect: "postgresql", schema: "./src/schema.ts", out: "./drizzle" };\n')
    (tmp_path / "src" / "schema.ts").write_text(
        'import { pgTable, bigint, text } from "drizzle-orm/pg-core";\n'
        'export const users = pgTable("users", {\n  id: bigint("id", { mode: "number" }).primaryKey(),\n'
        '  email: text("email"),\n});\n')
    (tmp_path / "drizzle" / "0000_init.sql").write_text(
        'CREATE TABLE "users" ("id" bigint PRIMARY KEY NOT NULL, "email" text);\n')
    (tmp_path / "drizzle" / "meta" / "_journal.json").write_text(json.dumps(
        {"version": "7", "dialect": "postgresql",
         "entries": [{"idx": 0, "version": "7", "when": 1700000000000, "tag": "0000_init", "breakpoints": True}]}))
    (tmp_path / "drizzle" / "meta" / "0000_snapshot.json").write_text(json.dumps(SNAPSHOT))
    (tmp_path / "package.json").write_text('{"dependencies": {"drizzle-orm": "*"}, "devDependencies": {"drizzle-kit": "*"}}')
    return tmp_path


def test_the_summary_says_the_manual_file_runs_before_the_check_entry(project):
    plan = tools.plan_migration([{"op": "add_index", "table": "users", "columns": ["email"]}], str(project))
    outcome = tools.write_migration(plan, str(project))
    manual = [f for f in outcome.files if "_manual_" in f and not f.endswith(".down.sql")]
    check = [f for f in outcome.files if "_flux_check_" in f and not f.endswith(".down.sql")]
    assert len(manual) == len(check) == 1 and manual[0] < check[0]  # psql's file sorts first
    tags = [e["tag"] for e in json.loads((project / "drizzle" / "meta" / "_journal.json").read_text())["entries"]]
    assert tags[-1] == check[0].rpartition("/")[2][:-len(".sql")]  # the check is drizzle's, the manual file not
    line = next(line for line in outcome.plan.summary.splitlines() if "`_manual_`" in line)
    assert line.index("psql") < line.index("before `drizzle-kit migrate`") < line.index("`_flux_check_`")
