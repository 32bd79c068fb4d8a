"""Detection on the layouts real projects have: each tool's own configuration read as text
the way the tool reads it, the files' own shape as the fallback, and the real fixtures laid
out at the paths their repositories keep them (SOURCES.md), with the config files those
repositories carry."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from flux_agent.project.detect import detect
from test_detect import MANAGE

from conftest import FIXTURES_REAL


def _project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


SQL = "CREATE TABLE t (id int PRIMARY KEY);\n"

TYPEORM_MIGRATION = ('import { MigrationInterface, QueryRunner } from "typeorm";\n'
                     "export class Init1638541848595 implements MigrationInterface {\n"
                     "  public async up(queryRunner: QueryRunner): Promise<void> {}\n"
                     "  public async down(queryRunner: QueryRunner): Promise<void> {}\n}\n")

LAYOUTS = [
    # ever-gauzy's monorepo: packages depend on typeorm, no data source names a glob, and the
    # migrations are neither src/migrations nor migrations of any of them
    ("typeorm-migrations-where-its-files-are",
     {"packages/plugins/reviews/package.json": json.dumps({"dependencies": {"typeorm": "0.3.0"}}),
      "packages/core/package.json": json.dumps({"dependencies": {"typeorm": "0.3.0"}}),
      "packages/core/src/lib/database/migrations/1638541848595-Init.ts": TYPEORM_MIGRATION,
      "packages/core/src/lib/database/migrations/1638541848596-Next.ts": TYPEORM_MIGRATION,
      "packages/core/src/lib/database/seeds/1638541848597-NotAMigration.ts": "export const seed = 1;\n"},
     "typeorm", "packages/core/src/lib/database/migrations"),
    # Flowise's per-database folders: its mysql one holds a migration more than its postgres one
    ("typeorm-migrations-of-postgresql-among-other-databases",
     {"packages/server/package.json": json.dumps({"dependencies": {"typeorm": "0.3.0"}}),
      **{f"packages/server/src/database/migrations/{db}/17000000000{i:02d}-M{i}.ts": TYPEORM_MIGRATION
         for db, count in (("mysql", 3), ("postgres", 2), ("sqlite", 3)) for i in range(count)}},
     "typeorm", "packages/server/src/database/migrations/postgres"),
    ("prisma-schema-at-package-root",
     {"packages/db/schema.prisma": "datasource db {\n  provider = \"postgresql\"\n}\n",
      "packages/db/migrations/20250101000000_init/migration.sql": SQL},
     "prisma", "packages/db/migrations"),
    ("prisma-config-with-schema-folder-and-migrations-path",
     {"prisma.config.ts": 'import { defineConfig } from "prisma/config";\nexport default defineConfig({\n'
                          '  schema: "db/schema",\n  migrations: { path: "db/history" },\n});\n',
      "db/schema/base.prisma": "datasource db {\n  provider = \"postgresql\"\n}\n",
      "db/history/20250101000000_init/migration.sql": SQL},
     "prisma", "db/history"),
    ("prisma-package-json-schema",
     {"package.json": json.dumps({"name": "app", "prisma": {"schema": "database/app.prisma"}}),
      "database/app.prisma": "datasource db {\n  provider = \"postgresql\"\n}\n"},
     "prisma", "database/migrations"),
    ("golang-migrate-up-only-in-a-custom-folder",
     {"backend/resources/migrations/postgres/001_init.up.sql": SQL,
      "backend/resources/migrations/postgres/002_more.up.sql": "ALTER TABLE t ADD COLUMN x int;\n"},
     "golang-migrate", "backend/resources/migrations/postgres"),
    ("drizzle-config-out-folder",
     {"apps/web/drizzle.config.ts": 'export default { schema: "./src/schema.ts", out: "./sql/generated", '
                                    'dialect: "postgresql" };\n'},
     "drizzle", "apps/web/sql/generated"),
    # drizzle-kit reads `out` from the folder it runs in, the package's (dokploy's config is in server/db)
    ("drizzle-config-below-its-package",
     {"apps/app/package.json": json.dumps({"scripts": {"generate": "drizzle-kit generate --config "
                                                                   "./server/db/drizzle.config.ts"}}),
      "apps/app/server/db/drizzle.config.ts": 'export default defineConfig({ schema: "./server/db/schema/index.ts", '
                                              'dialect: "postgresql", out: "drizzle" });\n',
      "apps/app/drizzle/0000_init.sql": SQL},
     "drizzle", "apps/app/drizzle"),
    ("drizzle-journal-without-config",
     {"server/drizzle/meta/_journal.json": json.dumps({"version": "7", "dialect": "postgresql", "entries": []}),
      "server/drizzle/0000_init.sql": SQL},
     "drizzle", "server/drizzle"),
    ("dbmate-folder-in-package-json-scripts",
     {"package.json": json.dumps({"scripts": {"db:migrate": "dbmate --migrations-dir ./sql/changes up"},
                                  "devDependencies": {"dbmate": "2.0.0"}})},
     "dbmate", "sql/changes"),
    ("dbmate-folder-beside-a-stray-marked-file",  # a scratch file at the root must not move the folder
     {"scratch.sql": "-- migrate:up\n" + SQL,
      "db/migrations/20250101000000_a.sql": "-- migrate:up\n" + SQL,
      "db/migrations/20250102000000_b.sql": "-- migrate:up\nALTER TABLE t ADD COLUMN x int;\n"},
     "dbmate", "db/migrations"),
    ("dbmate-the-folder-with-most-marked-files",
     {"tools/try.sql": "-- migrate:up\n" + SQL,
      "sql/changes/20250101000000_a.sql": "-- migrate:up\n" + SQL,
      "sql/changes/20250102000000_b.sql": "-- migrate:up\nALTER TABLE t ADD COLUMN x int;\n"},
     "dbmate", "sql/changes"),
    ("dbmate-short-flag-in-package-json-scripts",
     {"package.json": json.dumps({"scripts": {"migrate": "npx dbmate -d=schema/migrations --no-dump-schema up"}})},
     "dbmate", "schema/migrations"),
    ("dbmate-folder-in-dotenv",
     {".env": "DATABASE_URL=postgres://x\nDBMATE_MIGRATIONS_DIR=./database/changes\n"},
     "dbmate", "database/changes"),
    ("dbmate-files-outside-db-migrations",
     {"database/migrations/20250101000000_init.sql": f"-- migrate:up\n{SQL}\n-- migrate:down\nDROP TABLE t;\n"},
     "dbmate", "database/migrations"),
    ("alembic-ini-one-level-below",
     {"backend/alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
      "backend/migrations/env.py": "", "backend/migrations/versions/0001_init.py": ""},
     "alembic", "backend/migrations/versions"),
    # dispatch: no [alembic] section, one per database (`alembic -n tenant`), as package resources
    # below the scan's depth; the one holding the most revisions, the others named in the evidence.
    ("alembic-named-sections-only",
     {"src/app/alembic.ini": "[core]\nscript_location = app:database/revisions/core\n\n"
                             "[tenant]\nscript_location = app:database/revisions/tenant\n",
      "src/app/__init__.py": "",
      "src/app/database/revisions/core/env.py": "", "src/app/database/revisions/core/versions/a.py": "",
      "src/app/database/revisions/tenant/env.py": "", "src/app/database/revisions/tenant/versions/b.py": "",
      "src/app/database/revisions/tenant/versions/c.py": ""},
     "alembic", "src/app/database/revisions/tenant/versions"),
    # formbricks: prisma.config names the folder its own script fills (git ignores it, absent in a
    # checkout); the migrations kept are in another folder beside the schema, data migrations among them.
    ("prisma-config-migrations-made-by-a-script",
     {"prisma.config.mjs": "export default { schema: 'packages/db/schema', migrations: { path: 'packages/db/.gen' } };\n",
      "packages/db/schema/main.prisma": "model A { id Int @id }\n",
      "packages/db/migration/20250101000000_init/migration.sql": SQL,
      "packages/db/migration/20250102000000_fill/migration.ts": "export {};\n",
      "packages/db/migration/20250103000000_more/migration.sql": SQL},
     "prisma", "packages/db/migration"),
    # river: a test fixture's pairs nearer the root than the drivers' own migrations, which hold more
    ("golang-migrate-folder-with-most-pairs",
     {"migrate/testdata/001_a.up.sql": SQL, "migrate/testdata/001_a.down.sql": "DROP TABLE t;\n",
      "driver/pg/migration/main/001_a.up.sql": SQL, "driver/pg/migration/main/001_a.down.sql": "DROP TABLE t;\n",
      "driver/pg/migration/main/002_b.up.sql": "ALTER TABLE t ADD COLUMN x int;\n",
      "driver/pg/migration/main/002_b.down.sql": "ALTER TABLE t DROP COLUMN x;\n"},
     "golang-migrate", "driver/pg/migration/main"),
    ("knex-in-a-monorepo-package",
     {"package.json": json.dumps({"workspaces": ["packages/*"]}),
      "packages/api/knexfile.js": "module.exports = { client: 'pg', migrations: { directory: './db/knex' } };\n"},
     "knex", "packages/api/db/knex"),
    ("rails-schema-dump-without-its-app",
     {"db/schema.rb": "ActiveRecord::Schema[7.1].define(version: 2025_01_01_000000) do\nend\n"},
     "rails", "db/migrate"),
]


@pytest.mark.parametrize("files, tool, folder", [c[1:] for c in LAYOUTS], ids=[c[0] for c in LAYOUTS])
def test_layout(tmp_path, files, tool, folder):
    found = detect(_project(tmp_path, files))
    assert (found.tool, found.migrations_dir) == (tool, folder), found.evidence
    assert found.evidence[-1].startswith(f"migrations: {folder}, found by ") or tool == "rails", found.evidence


def test_two_candidates_are_said_and_how_to_choose(tmp_path, capsys):
    from flux_agent.entry.cli import main

    _project(tmp_path, {"prisma/schema.prisma": "datasource db {\n  provider = \"postgresql\"\n}\n",
                        "knexfile.js": "module.exports = {};\n"})
    found = detect(tmp_path)
    assert found.ambiguous and found.candidates == ["prisma", "knex"]
    assert main(["detect", "--project", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ambiguous: also found knex; choose with --tool, or `tool:` in .flux.yaml" in out


def test_where_each_fact_came_from(tmp_path):
    from flux_agent.model.settings import Settings

    _project(tmp_path, {"knexfile.js": "module.exports = {};\n"})
    assert detect(tmp_path).evidence == ["knex: knexfile.js exists", "migrations: migrations, found by knexfile.js exists"]
    chosen = detect(tmp_path, "dbmate", Settings(migrations_dir="sql"))
    assert chosen.evidence[0] == "dbmate: chosen by --tool"
    assert chosen.evidence[-1] == "migrations: sql, set by migrations_dir in the settings (.flux.yaml or [tool.flux])"


# The real fixtures at the paths their repositories keep them, with the config files those
# repositories carry (written here small: the settings that matter to detection).
REPOSITORY_CONFIG = {
    "drizzle-dokploy": {"apps/dokploy/drizzle.config.ts": 'export default { schema: "./src/server/db/schema.ts", '
                                                          'dialect: "postgresql" };\n'},
}
EXPECTED = {
    "dbmate-upchieve": ("dbmate", "database/migrations"),
    "drizzle-dokploy": ("drizzle", "apps/dokploy/drizzle"),
    "golang-migrate-pocket-id": ("golang-migrate", "backend/resources/migrations/postgres"),
    "prisma-documenso": ("prisma", "packages/prisma/migrations"),
    "prisma-rallly": ("prisma", "packages/database/prisma/migrations"),
    "prisma-umami": ("prisma", "prisma/migrations"),
    "rails-lobsters": ("rails", "db/migrate"),
    "rails-maybe": ("rails", "db/migrate"),
    "rails-openstreetmap": ("rails", "db/migrate"),
}


def _repository_layout(name: str, root: Path) -> Path:
    """The fixture's files copied to their original paths, per SOURCES.md's per-file listing."""
    rows = re.findall(r"^\| `(" + re.escape(name) + r"/[^`]+)` \| `([^`]+)` \|", (FIXTURES_REAL / "SOURCES.md")
                      .read_text(encoding="utf-8"), re.M)
    assert rows, f"no files of {name} listed in SOURCES.md"
    for fixture, original in rows:
        target = root / original
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES_REAL / fixture, target)
    return _project(root, REPOSITORY_CONFIG.get(name, {}))


@pytest.mark.skipif(not (FIXTURES_REAL / "SOURCES.md").is_file(),
                    reason="../shared/fixtures/real is not beside the project")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_fixture_as_its_repository_lays_it_out(tmp_path, name):
    found = detect(_repository_layout(name, tmp_path / name))
    assert (found.tool, found.migrations_dir) == EXPECTED[name], found.evidence


@pytest.mark.skipif(not (FIXTURES_REAL / "SOURCES.md").is_file(),
                    reason="../shared/fixtures/real is not beside the project")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_fixture_as_it_is_kept_here(name):
    tool, folder = EXPECTED[name]
    found = detect(FIXTURES_REAL / name)
    assert found.tool == tool, found.evidence


MORE_CONFIG = [
    ("typeorm-data-source-migrations-glob",
     {"package.json": json.dumps({"dependencies": {"typeorm": "0.3.0"}}),
      "src/db/data-source.ts": 'import { DataSource } from "typeorm";\nexport default new DataSource({\n'
                               '  type: "postgres",\n  migrations: ["src/db/changes/*.ts"],\n});\n'},
     "typeorm", "src/db/changes"),
    ("typeorm-one-config-per-database",  # jellyseerr: sqlite's config first, then postgres' (chosen by DB_TYPE)
     {"package.json": json.dumps({"dependencies": {"typeorm": "0.3.12"}}),
      "server/datasource.ts": 'import { DataSource } from "typeorm";\n'
                              "const sqlite = { type: 'sqlite', migrations: ['server/migration/sqlite/*.ts'] };\n"
                              "const pg = { type: 'postgres', migrations: ['server/migration/postgres/*.ts'] };\n"
                              "export default new DataSource(process.env.DB_TYPE === 'postgres' ? pg : sqlite);\n"},
     "typeorm", "server/migration/postgres"),
    ("node-pg-migrate-folder-in-package-json-scripts",
     {"package.json": json.dumps({"devDependencies": {"node-pg-migrate": "7.0.0"},
                                  "scripts": {"migrate": "node-pg-migrate -m db/pg-migrations up"}})},
     "node-pg-migrate", "db/pg-migrations"),
    ("node-pg-migrate-through-another-package",  # stacks: no dependency of its own names it, a script runs it
     {"package.json": json.dumps({"dependencies": {"@acme/api-toolkit": "1.0.0"},
                                  "scripts": {"migrate": "node-pg-migrate -m migrations -j ts"}}),
      "migrations/1700000000000_init.ts": "export async function up(pgm) {}\n"},
     "node-pg-migrate", "migrations"),
    ("flask-manage-py-beside-alembic",  # redash's layout: manage.py is Flask's CLI, not Django's, and
     # the front end's data-source.js is the app's own DataSource, not TypeORM's
     {"manage.py": "from redash.cli import manager\n\nif __name__ == '__main__':\n    manager()\n",
      "client/app/services/data-source.js": "const DataSource = { query() {} };\nexport default DataSource;\n",
      "migrations/alembic.ini": "[alembic]\n", "migrations/env.py": "", "migrations/versions/0ec9_x.py": ""},
     "alembic", "migrations/versions"),
    ("django-migration-modules",
     {"manage.py": MANAGE, "site/settings.py": 'MIGRATION_MODULES = {\n    "shop": "shop.db_migrations",\n}\n',
      "shop/db_migrations/__init__.py": "", "shop/migrations/__init__.py": ""},
     "django", "shop/db_migrations"),
]


@pytest.mark.parametrize("files, tool, folder", [c[1:] for c in MORE_CONFIG], ids=[c[0] for c in MORE_CONFIG])
def test_tool_configuration_names_the_folder(tmp_path, files, tool, folder):
    found = detect(_project(tmp_path, files))
    assert (found.tool, found.migrations_dir) == (tool, folder), found.evidence


def test_a_manage_py_or_data_source_of_another_framework_is_no_evidence(tmp_path):
    files = dict(next(c[1] for c in MORE_CONFIG if c[0] == "flask-manage-py-beside-alembic"))
    found = detect(_project(tmp_path, files))
    assert (found.candidates, found.ambiguous) == (["alembic"], False), found.evidence


def test_alembic_sections_left_out_are_named(tmp_path):
    files = dict(next(c[1] for c in LAYOUTS if c[0] == "alembic-named-sections-only"))
    found = detect(_project(tmp_path, files))
    assert any("section [tenant]" in e and "(2 revisions)" in e and "also [core]: choose one with migrations_dir" in e
               for e in found.evidence), found.evidence
