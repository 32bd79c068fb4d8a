"""Issue 18, part 3: a second `flux plan` right after `--write`, before the tool has applied
anything, sees the pending change, for every tool. Plan add_index with --write, then the same
add_index again is refused as already existing; plan add_column with --write, then the column is
known. Nothing is applied anywhere: the dev database builds the project's files, Flux's pending
ones included (on top of schema.rb / structure.sql for Rails, of schema.prisma for Prisma when it
reads that file)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from flux_agent.devdb.server import find_binaries
from flux_agent.entry import actions as tools
from flux_agent.errors import FluxInputError

pytestmark = [pytest.mark.pg, pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries")]

USERS = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)"
ORDERS = "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), status text)"
INIT = f"{USERS};\n{ORDERS};\n"
DOWN = "DROP TABLE orders;\nDROP TABLE users;\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip("\n"))
    return root


SCHEMA_PRISMA = """
    datasource db {
      provider = "postgresql"
      url      = env("DATABASE_URL")
    }

    model User {
      id     BigInt  @id
      email  String
      orders Order[]
      @@map("users")
    }

    model Order {
      id     BigInt  @id
      userId BigInt  @map("user_id")
      status String?
      note   String?
      user   User    @relation(fields: [userId], references: [id])
      @@map("orders")
    }
    """

SCHEMA_RB = """
    ActiveRecord::Schema[7.1].define(version: 2024_01_01_000000) do
      enable_extension "plpgsql"

      create_table "orders", force: :cascade do |t|
        t.bigint "user_id", null: false
        t.string "status"
      end

      create_table "users", force: :cascade do |t|
        t.string "email", null: false
      end

      add_foreign_key "orders", "users"
    end
    """

STRUCTURE_SQL = f"""
    SET statement_timeout = 0;
    {USERS};
    {ORDERS};
    CREATE TABLE public.schema_migrations (version character varying NOT NULL PRIMARY KEY);
    CREATE TABLE public.ar_internal_metadata (key character varying NOT NULL PRIMARY KEY, value character varying);

    SET search_path TO "$user", public;

    INSERT INTO "schema_migrations" (version) VALUES
    ('20240101000000');

    """

RAILS_INIT = """
    class Init < ActiveRecord::Migration[7.1]
      def change
        create_table :users do |t|
          t.string :email, null: false
        end
        create_table :orders do |t|
          t.references :user, null: false, foreign_key: true
          t.string :status
        end
      end
    end
    """

# tool -> the project's files (written under tmp_path/app), each a small project with users and orders.
FILE_PROJECTS: dict[str, dict[str, str]] = {
    "sql": {"db/migrations/20240101000000_init.sql": f"-- migrate:up\n{INIT}\n-- migrate:down\n{DOWN}"},
    "dbmate": {"db/migrations/20240101000000_init.sql": f"-- migrate:up\n{INIT}\n-- migrate:down\n{DOWN}"},
    "golang-migrate": {"migrations/000001_init.up.sql": INIT, "migrations/000001_init.down.sql": DOWN},
    "goose": {"migrations/00001_init.sql": f"-- +goose Up\n{INIT}\n-- +goose Down\n{DOWN}"},
    "flyway": {"db/migration/V1__init.sql": INIT},
    "sqitch": {"sqitch.plan": "%syntax-version=1.0.0\n%project=app\n\n"
                              "init 2024-01-01T00:00:00Z Ann <ann@example.com> # users and orders\n",
               "sqitch.conf": "[core]\n\tengine = pg\n",
               "deploy/init.sql": f"BEGIN;\n{INIT}COMMIT;\n", "revert/init.sql": f"BEGIN;\n{DOWN}COMMIT;\n",
               "verify/init.sql": "SELECT id FROM orders WHERE false;\n"},
    "drizzle": {"drizzle/0000_init.sql": f"{USERS};\n--> statement-breakpoint\n{ORDERS};\n",
                "drizzle/meta/_journal.json": json.dumps({"version": "7", "dialect": "postgresql", "entries": [
                    {"idx": 0, "version": "7", "when": 1704067200000, "tag": "0000_init", "breakpoints": True}]}),
                "drizzle.config.ts": 'export default { dialect: "postgresql", out: "./drizzle" };\n'},
    # prisma's own history, which builds the schema
    "prisma": {"prisma/schema.prisma": SCHEMA_PRISMA, "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
               "prisma/migrations/20240101000000_init/migration.sql": INIT + "ALTER TABLE orders ADD COLUMN note text;\n"},
    # schema.prisma alone: no migration of prisma's yet
    "prisma-schema-file": {"prisma/schema.prisma": SCHEMA_PRISMA},
    # a trimmed history (its first migration squashed away): read from schema.prisma
    "prisma-trimmed": {"prisma/schema.prisma": SCHEMA_PRISMA,
                       "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
                       "prisma/migrations/20240102000000_note/migration.sql": "ALTER TABLE orders ADD COLUMN note text;\n"},
    "rails": {"Gemfile": 'source "https://rubygems.org"\ngem "rails", "~> 7.1"\ngem "pg"\n',
              "db/schema.rb": SCHEMA_RB, "db/migrate/20240101000000_init.rb": RAILS_INIT},
    # strong_migrations: Flux's execute calls sit in safety_assured blocks
    "rails-strong": {"Gemfile": 'source "https://rubygems.org"\ngem "rails", "~> 7.1"\ngem "strong_migrations"\n',
                     "db/schema.rb": SCHEMA_RB, "db/migrate/20240101000000_init.rb": RAILS_INIT},
    "rails-structure": {"Gemfile": 'source "https://rubygems.org"\ngem "rails", "~> 7.1"\ngem "pg"\n',
                        "db/structure.sql": STRUCTURE_SQL, "db/migrate/20240101000000_init.rb": RAILS_INIT},
}


def second_plan_sees_the_first(project: Path, tool: str, table: str = "orders", column: str = "status") -> None:
    (project / ".flux.yaml").write_text(f"tool: {tool}\n")
    index = [{"op": "add_index", "table": table, "columns": [column]}]
    plan = tools.plan_migration(index, str(project))
    assert [f for f in plan.findings if f.severity == "error"] == []
    written = tools.write_migration(plan, str(project))
    assert written.files and all((project / f).is_file() for f in written.files)
    with pytest.raises(FluxInputError, match=rf"already has an index on \({column}\)"):
        tools.plan_migration(index, str(project))
    add = [{"op": "add_column", "table": table, "column": "flux_extra", "type": "text"}]
    tools.write_migration(tools.plan_migration(add, str(project)), str(project))
    schema, notes = tools.current_schema(str(project))
    assert schema.table(table).column("flux_extra") is not None
    assert column in [c for i in schema.table(table).indexes for c in i.columns]
    assert [n for n in notes if "skipped" in n and "read schema.prisma instead" not in n] == [], notes
    with pytest.raises(FluxInputError, match="already exists"):  # and a third plan still sees both
        tools.plan_migration(add, str(project))


@pytest.mark.slow  # each case ~0.8 s, all together ~16 s
@pytest.mark.parametrize("name", list(FILE_PROJECTS))
def test_second_plan_sees_pending_files(tmp_path, name):
    project = write(tmp_path / "app", FILE_PROJECTS[name])
    second_plan_sees_the_first(project, name.split("-")[0] if name.startswith(("prisma", "rails")) else name)


def test_rails_pending_sql_is_the_steps_up_sql(tmp_path):
    """What runs on top of schema.rb is exactly the SQL of Flux's execute heredocs in `up`, and only
    for the versions the dump does not show."""
    from flux_agent.devdb.sources import pending_scripts
    from flux_agent.project.detect import detect
    from flux_agent.project.config import load_settings

    project = write(tmp_path / "app", FILE_PROJECTS["rails"])
    (project / ".flux.yaml").write_text("tool: rails\n")
    plan = tools.plan_migration([{"op": "add_index", "table": "orders", "columns": ["status"]}], str(project))
    outcome = tools.write_migration(plan, str(project))
    found = detect(project, "rails", load_settings(project))
    [step] = [s for s in outcome.plan.steps if not s.is_code]
    [guard, script] = pending_scripts(project, found)  # the guard is an execute of its own, first
    assert guard.sql == step.guard_sql.strip() and not guard.transactional
    assert script.name == step.files[0] and script.sql == step.up_sql.strip() and not script.transactional
    # Once db:migrate ran and dumped schema.rb at that version, the file is no longer pending.
    version = Path(step.files[0]).name[:14]
    schema_rb = project / "db" / "schema.rb"
    schema_rb.write_text(schema_rb.read_text().replace("2024_01_01_000000", version))
    assert pending_scripts(project, found) == []


# -- the program-code tools run every file of the folder: Flux's pending ones too ----------------------

DUMMY_URL = "postgresql://acme@db.acme.invalid:5432/acme"


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.parametrize("tool", ["knex", "typeorm", "sequelize", "node-pg-migrate"])
def test_second_plan_sees_pending_files_node(tmp_path, tool):
    from tests.integration.devdb.test_program_node import make_project
    from js_tools import modules

    nm = modules(tool)
    project = make_project(tool, tmp_path / "app", DUMMY_URL, nm)
    second_plan_sees_the_first(project.root, tool)


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["django", "alembic"])
def test_second_plan_sees_pending_files_python(tmp_path, tool):
    pytest.importorskip(tool)
    from tests.integration.devdb import test_program_python as py

    if tool == "django":
        project = py.django_project(tmp_path / "app")
        # pages: Django indexes a foreign key itself (author_id), and an index there is nothing to add
        second_plan_sees_the_first(project, tool, "library_book", "pages")
    else:
        project = py.alembic_project(tmp_path / "app", py.CONVENTIONAL_ENV)
        second_plan_sees_the_first(project, tool, "books", "author_id")


def test_prisma_pending_are_flux_files_after_prisma_own(tmp_path):
    """On schema.prisma, the migrations Flux wrote after prisma's last own one run on top (whether or not
    the write also edited schema.prisma: what already shows there is skipped without a note)."""
    from flux_agent.devdb.sources import pending_scripts
    from flux_agent.project.config import load_settings
    from flux_agent.project.detect import detect

    project = write(tmp_path / "app", FILE_PROJECTS["prisma-trimmed"])
    (project / ".flux.yaml").write_text("tool: prisma\n")
    found = detect(project, "prisma", load_settings(project))
    assert pending_scripts(project, found) == []
    plan = tools.plan_migration([{"op": "add_index", "table": "orders", "columns": ["status"]}], str(project))
    outcome = tools.write_migration(plan, str(project))
    names = [s.name for s in pending_scripts(project, found)]
    assert names == [f for f in outcome.files if f.endswith("migration.sql")]
    # A migration prisma made after it: Flux's earlier file is in prisma's history now, not pending.
    write(project, {"prisma/migrations/20990101000000_later/migration.sql": "SELECT 1;\n"})
    assert pending_scripts(project, found) == []


TYPEORM_JS_INIT = """module.exports = class Init1735689600000 {
    name = "Init1735689600000";

    async up(queryRunner) {
        await queryRunner.query(`CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)`);
        await queryRunner.query(`CREATE TABLE orders (id serial PRIMARY KEY,
            user_id integer NOT NULL REFERENCES users (id), status text)`);
    }

    async down(queryRunner) {
        await queryRunner.query(`DROP TABLE orders`);
        await queryRunner.query(`DROP TABLE users`);
    }
}
"""


@pytest.mark.slow
@pytest.mark.node
def test_second_plan_sees_pending_files_typeorm_javascript(tmp_path):
    """A JavaScript TypeORM project (data-source.js, no tsconfig.json): Flux writes .js classes, and the
    project's own TypeORM runs them on the dev database with the rest."""
    from js_tools import modules

    nm = modules("typeorm")
    root = tmp_path / "app"
    write(root, {"package.json": json.dumps({"name": "app", "private": True,
                                             "dependencies": {"typeorm": "1.1.1", "pg": "8"}}),
                 "data-source.js": 'const { DataSource } = require("typeorm");\n'
                                   'module.exports = { default: new DataSource({ type: "postgres", host: "db.acme.invalid", '
                                   'port: 5432, username: "acme", password: "", database: "acme", '
                                   'migrations: ["migrations/*.js"] }) };\n',
                 "migrations/1735689600000-Init.js": TYPEORM_JS_INIT})
    (root / "node_modules").symlink_to(nm, target_is_directory=True)
    second_plan_sees_the_first(root, "typeorm")
    assert all(p.suffix == ".js" for p in (root / "migrations").iterdir())


def test_a_plan_changing_what_a_pending_plan_changes_is_not_written(tmp_path):
    """polar: a drop of users.email left pending, then a rename of it written; `continue` of the drop
    set the column aside under the rename's sync trigger and every write to users failed. The second
    write is refused, nothing written; a plan on other columns goes on."""
    import shutil

    from shop import SHOP

    project = tmp_path / "shop"
    shutil.copytree(SHOP, project)
    drop = tools.write_migration(tools.plan_migration(
        [{"op": "drop_column", "table": "users", "column": "name"}], str(project)), str(project))
    assert drop.remaining_steps
    before = sorted(p.relative_to(project).as_posix() for p in project.rglob("*"))
    rename = tools.plan_migration([{"op": "rename_column", "table": "users", "column": "name",
                                    "new_name": "full_name"}], str(project))
    with pytest.raises(FluxInputError, match=r"^plan \S+ \(drop column users.name\) has steps left to write and "
                                             r"changes users.name too: "):
        tools.write_migration(rename, str(project))
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == before
    other = tools.write_migration(tools.plan_migration(
        [{"op": "add_column", "table": "users", "column": "nickname", "type": "text"}], str(project)), str(project))
    assert other.files
