"""Where a new table's pgTable goes in a drizzle schema split over files: beside the table its
foreign keys in the plan reference (the `.references()` it needs is then in scope), else in the
first file the config names."""

from __future__ import annotations

import pytest

from flux_agent.entry import actions as tools

TABLE = ('import {{ pgTable, bigint, text }} from "drizzle-orm/pg-core";\n'
         'export const {name} = pgTable("{name}", {{\n  id: bigint("id", {{ mode: "number" }}).primaryKey(),\n'
         '  title: text("title"),\n}});\n')


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("FLUX_DEVDB", "off")  # the schema is read from the migrations
    (tmp_path / "drizzle" / "meta").mkdir(parents=True)
    (tmp_path / "src" / "db").mkdir(parents=True)
    (tmp_path / "drizzle.config.ts").write_text(
        'export default { dialect: "postgresql", schema: "./src/db/*.ts", out: "./drizzle" };\n')
    for file, name in (("auth", "users"), ("blog", "posts")):
        (tmp_path / "src" / "db" / f"{file}.ts").write_text(TABLE.format(name=name))
    (tmp_path / "drizzle" / "0000_init.sql").write_text(
        'CREATE TABLE "users" ("id" bigint PRIMARY KEY NOT NULL, "title" text);\n--> statement-breakpoint\n'
        'CREATE TABLE "posts" ("id" bigint PRIMARY KEY NOT NULL, "title" text);\n')
    (tmp_path / "drizzle" / "meta" / "_journal.json").write_text(
        '{"version": "7", "dialect": "postgresql", "entries": [{"idx": 0, "version": "7", '
        '"when": 1700000000000, "tag": "0000_init", "breakpoints": true}]}')
    (tmp_path / "package.json").write_text('{"dependencies": {"drizzle-orm": "*"}, "devDependencies": {"drizzle-kit": "*"}}')
    return tmp_path


NEW = {"op": "create_table", "table": "comments", "columns": [
    {"name": "id", "type": "bigint", "primary_key": True}, {"name": "post_id", "type": "bigint", "nullable": False}]}


@pytest.mark.parametrize("ops, home", [
    ([NEW, {"op": "add_foreign_key", "table": "comments", "columns": ["post_id"], "ref_table": "posts",
            "ref_columns": ["id"]}], "src/db/blog.ts"),  # beside posts, not in the first file
    ([NEW], "src/db/auth.ts"),  # nothing to be beside: the first file
])
def test_a_new_table_goes_beside_the_table_it_references(project, ops, home):
    plan = tools.plan_migration(ops, str(project))
    edited = [c.path for c in plan.code_changes if c.patch and 'pgTable("comments"' in c.patch]
    assert edited == [home]
