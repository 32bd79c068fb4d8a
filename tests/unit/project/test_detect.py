import json
from pathlib import Path

import pytest

from flux_agent.project.detect import TOOLS, detect
from flux_agent.errors import FluxInputError
from flux_agent.model.settings import Settings


def make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# The manage.py `django-admin startproject` writes, cut to what detection reads.
MANAGE = ("import os, sys\n\nif __name__ == '__main__':\n"
          "    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n"
          "    from django.core.management import execute_from_command_line\n")


def pkg(deps: dict[str, str], dev: bool = False) -> str:
    return json.dumps({"name": "app", ("devDependencies" if dev else "dependencies"): deps})


# (files, tool, migrations_dir)
CASES = {
    "dbmate-files": ({"db/migrations/20240101000000_init.sql": "-- migrate:up\ncreate table t();\n-- migrate:down\n"},
                     "dbmate", "db/migrations"),
    "dbmate-npm": ({"package.json": pkg({"dbmate": "^2"}, dev=True)}, "dbmate", "db/migrations"),
    "dbmate-env": ({".env": "DATABASE_URL=x\nDBMATE_MIGRATIONS_DIR=./sql/migrations\n"}, "dbmate", "sql/migrations"),
    "prisma": ({"prisma/schema.prisma": "datasource db { provider = \"postgresql\" }"}, "prisma", "prisma/migrations"),
    "alembic-ini": ({"alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n"},
                    "alembic", "migrations/versions"),
    "alembic-default": ({"alembic.ini": "[alembic]\n", "alembic/env.py": "", "alembic/versions/a1_x.py": ""},
                        "alembic", "alembic/versions"),
    "drizzle": ({"drizzle.config.ts": "export default { out: './db/drizzle', dialect: 'postgresql' }"},
                "drizzle", "db/drizzle"),
    "drizzle-default": ({"drizzle.config.js": "module.exports = {}"}, "drizzle", "drizzle"),
    "typeorm-config": ({"ormconfig.json": "{}"}, "typeorm", "migrations"),
    "typeorm-dep": ({"package.json": pkg({"typeorm": "0.3"}), "src/migrations/1700000000000-Init.ts": ""},
                    "typeorm", "src/migrations"),
    "knex": ({"knexfile.js": "module.exports = { client: 'pg', migrations: { directory: './db/knex' } }"},
             "knex", "db/knex"),
    "rails": ({"Gemfile": "source 'https://rubygems.org'\ngem 'rails', '~> 7.1'\n", "db/migrate/.keep": ""},
              "rails", "db/migrate"),
    "django": ({"manage.py": MANAGE, "shop/migrations/__init__.py": "", "shop/migrations/0001_initial.py": "",
                "blog/migrations/__init__.py": ""}, "django", "blog/migrations"),
    "golang-migrate": ({"migrations/000001_init.up.sql": "create table t();",
                        "migrations/000001_init.down.sql": "drop table t;"}, "golang-migrate", "migrations"),
    "goose": ({"sql/schema/20240101_init.sql": "-- +goose Up\ncreate table t();\n-- +goose Down\n"},
              "goose", "sql/schema"),
    "flyway-files": ({"src/db/V1__init.sql": "create table t();"}, "flyway", "src/db"),
    "flyway-conf": ({"flyway.conf": "flyway.locations=filesystem:sql/flyway\n"}, "flyway", "sql/flyway"),
    "sequelize": ({".sequelizerc": "module.exports = {\n 'migrations-path': path.resolve('db', 'seq'),\n};\n"},
                  "sequelize", "db/seq"),
    "sqitch": ({"sqitch.plan": "%project=app\n"}, "sqitch", "."),
    "node-pg-migrate": ({"package.json": pkg({"node-pg-migrate": "^7"})}, "node-pg-migrate", "migrations"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_detects_each_tool(tmp_path, name):
    files, tool, folder = CASES[name]
    d = detect(make(tmp_path, files))
    assert (d.tool, d.migrations_dir) == (tool, folder)
    assert d.candidates == [tool] and not d.ambiguous
    assert d.dialect == "postgresql"
    assert any(line.startswith(f"{tool}: ") for line in d.evidence)


def test_rails_needs_db_migrate(tmp_path):
    make(tmp_path, {"Gemfile": "gem 'rails'\n"})
    assert detect(tmp_path).tool == "sql"


def test_lone_up_sql_is_not_golang_migrate(tmp_path):
    make(tmp_path, {"migrations/1_x.up.sql": "select 1;"})
    assert detect(tmp_path).candidates == []


def test_dbmate_marker_must_be_a_line(tmp_path):
    make(tmp_path, {"db/migrations/1_x.sql": "create table t(); -- see migrate:up docs\n"})
    assert detect(tmp_path).tool == "sql"


def test_fallback(tmp_path):
    d = detect(tmp_path)
    assert (d.tool, d.migrations_dir, d.candidates, d.ambiguous) == ("sql", "db/migrations", [], False)
    d = detect(tmp_path, settings=Settings(migrations_dir="sql/changes/"))
    assert d.migrations_dir == "sql/changes"


def test_ambiguous_picks_fixed_priority(tmp_path):
    make(tmp_path, {
        "db/migrations/20240101000000_init.sql": "-- migrate:up\n",
        "prisma/schema.prisma": "",
        "knexfile.ts": "export default {}",
    })
    d = detect(tmp_path)
    assert d.ambiguous
    assert d.tool == "prisma" and d.migrations_dir == "prisma/migrations"
    assert d.candidates == ["prisma", "knex", "dbmate"]
    assert detect(tmp_path) == d  # deterministic


def test_sql_files_a_program_tools_migrations_read_are_not_another_tool(tmp_path):
    # knex migrations that run the .up.sql files beside them: not golang-migrate's pairs
    make(tmp_path, {
        "lib/model/knexfile.js": "module.exports = { client: 'pg', migrations: { directory: 'migrations' } };",
        "lib/model/migrations/20240101-01-init.js": "exports.up = (knex) => knex.raw('SELECT 1');",
        "lib/model/migrations/20240102-01-geo-01.up.sql": "CREATE TABLE g (id int);",
        "lib/model/migrations/20240102-01-geo-01.down.sql": "DROP TABLE g;",
    })
    d = detect(tmp_path)
    assert (d.tool, d.migrations_dir, d.candidates, d.ambiguous) == ("knex", "lib/model/migrations", ["knex"], False)
    assert any(e.startswith("golang-migrate: not a candidate") and "knex's migrations folder" in e for e in d.evidence)
    assert detect(tmp_path, tool_override="golang-migrate").migrations_dir == "lib/model/migrations"
    # Pairs in a folder of their own still make the project ambiguous.
    make(tmp_path, {"sql/1_a.up.sql": "CREATE TABLE a (id int);", "sql/1_a.down.sql": "DROP TABLE a;",
                    "sql/2_b.up.sql": "CREATE TABLE b (id int);", "sql/2_b.down.sql": "DROP TABLE b;"})
    d = detect(tmp_path)
    assert d.ambiguous and d.candidates == ["knex", "golang-migrate"]


def test_knex_without_a_knexfile_is_its_dependency_and_a_folder_of_its_migrations(tmp_path):
    # Joplin's server runs knex's migrations itself: no knexfile, a folder of <timestamp>_name.ts
    make(tmp_path, {
        "packages/server/package.json": '{"dependencies": {"knex": "3.1.0", "pg": "8"}}',
        "packages/server/src/migrations/20190913171451_create.ts": "export const up = async (db) => {};",
        "packages/server/src/migrations/20210201143859_share.ts": "export async function up(db) {}",
        "packages/server/src/models/20190913171451_notes.md": "not a migration",
    })
    d = detect(tmp_path)
    assert (d.tool, d.migrations_dir, d.ambiguous) == ("knex", "packages/server/src/migrations", False)
    assert d.evidence[0] == ("knex: packages/server/package.json depends on knex and packages/server/src/migrations "
                             "holds 2 migrations named as knex names them (<timestamp>_name, defining up)")
    # knex as a query builder beside another tool's migrations: not a candidate
    (tmp_path / "packages/server/src/migrations").rename(tmp_path / "packages/server/src/queries")
    for f in (tmp_path / "packages/server/src/queries").iterdir():
        f.write_text("export const q = (db) => db('notes').select();")
    make(tmp_path, {"db/migrations/20240101000000_init.sql": "-- migrate:up\nCREATE TABLE t (id int);\n"})
    d = detect(tmp_path)
    assert (d.tool, d.candidates) == ("dbmate", ["dbmate"])


def test_sequelize_without_its_cli_in_the_project_is_its_dependency_and_a_folder_of_its_migrations(tmp_path):
    # sequelize-cli installed globally: package.json lists sequelize alone (pet_social_backend)
    make(tmp_path, {
        "package.json": '{"type": "module", "dependencies": {"pg": "^8", "sequelize": "^6"}}',
        "config/config.json": '{"development": {"dialect": "postgres"}}',
        "migrations/20211025134024-create-post.cjs": "module.exports = {\n  up: async (queryInterface, Sequelize) => {\n"
                                                   "    await queryInterface.createTable('Posts', {});\n  },\n};\n",
        "migrations/20211026000000-add-x.cjs": "module.exports = { up: async (qi) => qi.addColumn('Posts', 'x', {}) };",
    })
    d = detect(tmp_path)
    assert (d.tool, d.migrations_dir, d.ambiguous) == ("sequelize", "migrations", False)
    assert d.evidence[0] == ("sequelize: package.json depends on sequelize and migrations holds 2 migrations named "
                             "as sequelize-cli names them (<YYYYMMDDHHMMSS>-name, calling queryInterface)")
    # sequelize as an ORM beside another tool's migrations: not a candidate
    for f in (tmp_path / "migrations").iterdir():
        f.write_text("export const seed = () => 1;")
    make(tmp_path, {"db/migrations/20240101000000_init.sql": "-- migrate:up\nCREATE TABLE t (id int);\n"})
    d = detect(tmp_path)
    assert (d.tool, d.candidates) == ("dbmate", ["dbmate"])


def test_override_wins_and_uses_that_tools_folder(tmp_path):
    make(tmp_path, {"db/migrations/20240101000000_init.sql": "-- migrate:up\n", "prisma/schema.prisma": ""})
    d = detect(tmp_path, tool_override="dbmate")
    assert (d.tool, d.migrations_dir, d.ambiguous) == ("dbmate", "db/migrations", False)
    assert d.candidates == ["prisma", "dbmate"]
    assert d.evidence[0] == "dbmate: chosen by --tool"
    assert detect(tmp_path, tool_override="rails").migrations_dir == "db/migrate"
    assert detect(tmp_path, settings=Settings(tool="goose")).tool == "goose"
    assert detect(tmp_path, tool_override="sql", settings=Settings(tool="goose")).tool == "sql"


def test_unknown_override(tmp_path):
    with pytest.raises(FluxInputError, match="unknown tool 'liquibase'"):
        detect(tmp_path, tool_override="liquibase")
    assert "node-pg-migrate" in TOOLS and len(TOOLS) == 15


def test_depth_limit_and_skipped_folders(tmp_path):
    make(tmp_path, {
        "node_modules/some/prisma/schema.prisma": "",
        ".venv/lib/alembic.ini": "[alembic]\n",
        "a/b/c/d/e/manage.py": MANAGE,  # five levels down: out of reach
        "apps/api/knexfile.js": "module.exports = {}",  # two levels down: found
    })
    d = detect(tmp_path)
    assert d.candidates == ["knex"]
    assert d.migrations_dir == "apps/api/migrations"


def test_missing_project(tmp_path):
    with pytest.raises(FluxInputError):
        detect(tmp_path / "nope")


@pytest.mark.parametrize("module", ["", "billing/", "services/billing/"])
def test_flyway_in_a_jvm_projects_classpath_resources(tmp_path, module):
    """Flyway's default location is classpath:db/migration: src/main/resources/db/migration in a
    Maven or Gradle project, one module or several (five folders down and more), where the walk's
    depth limit stopped before it; the classpath resources are read three folders down."""
    make(tmp_path, {
        "build.gradle.kts": "",
        f"{module}src/main/resources/db/migration/V1__init.sql": "CREATE TABLE t (id int);\n",
        f"{module}src/main/resources/db/migration/V2__more.sql": "ALTER TABLE t ADD COLUMN n text;\n",
        f"{module}src/main/kotlin/a/b/c/d/e/manage.py": MANAGE,  # source code stays out of reach
    })
    d = detect(tmp_path)
    assert (d.tool, d.migrations_dir) == ("flyway", f"{module}src/main/resources/db/migration")
    assert d.candidates == ["flyway"]


@pytest.mark.parametrize("tool, files", [
    ("goose", {f"assets/migrations/{db}/001_init.sql": "-- +goose Up\nCREATE TABLE t (id int);\n"
               for db in ("mysql", "postgres", "sqlite")}),
    ("golang-migrate", {f"db/{db}/{n}_x.{way}.sql": "SELECT 1;\n" for db in ("mysql", "pg")
                        for n in ((1, 2, 3) if db == "mysql" else (1, 2)) for way in ("up", "down")}),
    ("flyway", {f"src/main/resources/db/migration/{db}/V1__init.sql": "CREATE TABLE t (id int);\n"
                for db in ("h2", "postgresql")}),
])
def test_a_project_of_several_databases_is_read_for_postgresql(tmp_path, tool, files):
    """A project that supports several databases keeps a folder of migrations for each (openfga's
    assets/migrations/{mysql,postgres,sqlite}): detection took the first by name, mysql, and judged
    PostgreSQL's files against MySQL's history. A folder named for another database comes last, even
    with more migrations in it."""
    make(tmp_path, {"build.gradle": "", **files})
    found = detect(tmp_path)
    assert found.tool == tool
    assert found.migrations_dir.split("/")[-1] in ("postgres", "pg", "postgresql"), found.migrations_dir


SQLITE_PAIR = "CREATE TABLE kv (key TEXT, at INTEGER NOT NULL DEFAULT (strftime('%s', 'now')));\n"


def test_another_databases_sql_is_not_taken_for_postgresqls(tmp_path):
    """atuin keeps sqlx's up/down pairs of its SQLite crates (strftime, AUTOINCREMENT) beside its
    PostgreSQL server's plain files: detection took a SQLite crate's pairs for golang-migrate's and
    read SQLite's SQL. Folders are named for neither, so the SQL says it: such pairs are never the
    project's, and the folders Flux points at when it finds no migrations name PostgreSQL's first."""
    from flux_agent.project.detect import ddl_folders

    make(tmp_path, {
        "crates/kv/migrations/1_kv.up.sql": SQLITE_PAIR, "crates/kv/migrations/1_kv.down.sql": "DROP TABLE kv;\n",
        "crates/scripts/migrations/1_s.up.sql": "CREATE TABLE s (id INTEGER PRIMARY KEY AUTOINCREMENT);\n",
        "crates/scripts/migrations/1_s.down.sql": "DROP TABLE s;\n",
        "crates/client/migrations/1_history.sql": "create table history (id text primary key);\n",
        "crates/server-postgres/migrations/1_history.sql": "create table history (id bigserial primary key);\n"})
    found = detect(tmp_path)
    assert "golang-migrate" not in found.candidates
    assert ddl_folders(tmp_path) == ["crates/server-postgres/migrations", "crates/client/migrations"]
    # PostgreSQL's pairs beside SQLite's: PostgreSQL's, though SQLite's folder has more of them
    make(tmp_path, {"crates/server/migrations/1_a.up.sql": "CREATE TABLE a (id bigint);\n",
                    "crates/server/migrations/1_a.down.sql": "DROP TABLE a;\n",
                    "crates/kv/migrations/2_kv.up.sql": SQLITE_PAIR, "crates/kv/migrations/2_kv.down.sql": "SELECT 1;\n"})
    assert (detect(tmp_path).tool, detect(tmp_path).migrations_dir) == ("golang-migrate", "crates/server/migrations")


@pytest.mark.parametrize("sql, other", [
    ("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);", True),
    ("CREATE TABLE t (id int UNSIGNED AUTO_INCREMENT);", True),
    ("PRAGMA foreign_keys = ON;", True),
    ("COMMENT ON TABLE t IS 'no AUTOINCREMENT or strftime here';  -- nor PRAGMA", False),
    ("CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY);", False),
])
def test_other_sql_reads_words_not_strings_or_comments(sql, other):
    from flux_agent.project.scan import other_sql

    assert other_sql(sql) is other


def test_a_django_project_has_a_migrations_folder_per_app(tmp_path):
    """healthchecks' api and accounts apps: detection names one folder, and `flux validate --since`
    with no paths looked at that one alone (a new migration of the other passed with exit 0)."""
    from flux_agent.project.detect import migration_folders

    (tmp_path / "manage.py").write_text("import django\n")
    for app in ("hc/accounts", "hc/api", "hc/front"):
        (tmp_path / app / "migrations").mkdir(parents=True)
        (tmp_path / app / "migrations" / "__init__.py").write_text("")
    (tmp_path / ".venv" / "lib" / "django_app" / "migrations").mkdir(parents=True)  # a package's: not the project's
    (tmp_path / ".venv" / "lib" / "django_app" / "migrations" / "__init__.py").write_text("")
    found = detect(tmp_path)
    assert found.tool == "django"
    # netbox's twelve apps: `flux detect` said one app's folder alone was the migrations folder
    assert "django: 3 apps keep migrations (accounts, api, front); a new migration goes to the app whose model " \
           "owns its table" in found.evidence, found.evidence
    assert found.evidence[-1] == "migrations: hc/accounts/migrations, found by manage.py exists"
    folders = migration_folders(tmp_path, found)
    assert folders[0] == found.migrations_dir and sorted(folders) == ["hc/accounts/migrations", "hc/api/migrations",
                                                                     "hc/front/migrations"]
    (tmp_path / "db").mkdir()  # any other tool: the one folder detection names
    assert migration_folders(tmp_path, found.model_copy(update={"tool": "dbmate", "migrations_dir": "db"})) == ["db"]


def test_each_alembic_section_is_a_history_of_its_own_not_a_proposed_change(tmp_path, monkeypatch):
    """dispatch's alembic.ini names [core] and [tenant]: detection picks the larger, and validating the
    other's revisions took them for changes proposed on top of the project, so it built the project's
    dev database (exit 2 where the app's settings are missing). Each is judged on its own chain."""
    from flux_agent.entry import validate as validate_mod
    from flux_agent.project.detect import migration_folders

    (tmp_path / "alembic.ini").write_text("[core]\nscript_location = revisions/core\n\n"
                                          "[tenant]\nscript_location = revisions/tenant\n")
    revision = ("revision = {rev!r}\ndown_revision = {down!r}\nfrom alembic import op\nimport sqlalchemy as sa\n\n"
                "def upgrade():\n    op.{call}\n\ndef downgrade():\n    pass\n")
    for section, count in (("core", 1), ("tenant", 3)):
        versions = tmp_path / "revisions" / section / "versions"
        versions.mkdir(parents=True)
        (versions.parent / "env.py").write_text("")
        for k in range(count):
            (versions / f"{section}_{k}.py").write_text(revision.format(
                rev=f"{section}{k}", down=f"{section}{k - 1}" if k else None,
                call=f"create_table('{section}{k}', sa.Column('id', sa.Integer, primary_key=True), "
                     "sa.Column('n', sa.Integer))"))
    (tmp_path / "revisions" / "core" / "versions" / "core_1.py").write_text(revision.format(
        rev="core1", down="core0", call="alter_column('core0', 'n', type_=sa.BigInteger)"))
    found = detect(tmp_path)
    assert found.migrations_dir == "revisions/tenant/versions"
    assert migration_folders(tmp_path, found) == ["revisions/tenant/versions", "revisions/core/versions"]

    def no_database(*_args, **_kwargs):
        raise AssertionError("a revision of the project's own was judged as a proposed change")

    monkeypatch.setattr(validate_mod, "current_schema", no_database)
    _, findings = validate_mod.validate_paths([str(tmp_path / "revisions" / "core" / "versions")], str(tmp_path))
    retyped = [f.message for f in findings if f.rule == "changing-column-type"]
    assert retyped and "TYPE integer -> bigint" in retyped[0], retyped  # the type its own chain gave it
