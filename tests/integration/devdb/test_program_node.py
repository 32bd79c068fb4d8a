"""Issue 16, the Node tools: knex, typeorm, sequelize and node-pg-migrate projects read through
Flux's dev database, the project's own installed tool running its own migrations there with its
connection overridden; the marker check stopping code that connects anywhere else; the plans
Flux writes run up, down, up by the real tool.

Each project is a small one in tmp_path (the layout test_writers_js_tools.Project makes, its
node_modules a link to the test tools'), with a first migration in the tool's own API making
users, orders (a foreign key to users, an index) and products. A second database, "prod", on
the same server stands for the production database a project's config names.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as psql

from flux_agent.plan.naming import index_name
from flux_agent.devdb.runners import RUNNERS
from flux_agent.devdb.server import dev_server
from flux_agent.entry import actions
from flux_agent.errors import FluxInputError
from js_tools import Project, db_params, modules, node_url

pytestmark = [pytest.mark.pg, pytest.mark.node]

TOOLS = ["knex", "typeorm", "sequelize", "node-pg-migrate"]
TABLE = {"knex": "knex_migrations", "typeorm": "migrations", "sequelize": "SequelizeMeta",
         "node-pg-migrate": "pgmigrations"}

# The first migration, in each tool's own API: users, orders (FK to users, an index), products.
INIT = {
    "knex": ("migrations/20250101000000_init.js", """
exports.up = async function (knex) {
  await knex.schema.createTable('users', (t) => { t.increments('id'); t.text('email').notNullable(); });
  await knex.schema.createTable('orders', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('id').inTable('users');
    t.text('status');
    t.index(['user_id'], 'orders_user_id_idx');
  });
  await knex.schema.createTable('products', (t) => { t.increments('id'); t.text('name'); });
  %(extra)s
};
exports.down = async function (knex) {
  await knex.schema.dropTable('products');
  await knex.schema.dropTable('orders');
  await knex.schema.dropTable('users');
};
"""),
    "typeorm": ("migrations/1735689600000-Init.ts", """
import { MigrationInterface, QueryRunner, TableIndex } from "typeorm";

export class Init1735689600000 implements MigrationInterface {
    name = "Init1735689600000";

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)`);
        await queryRunner.query(`CREATE TABLE orders (id serial PRIMARY KEY,
            user_id integer NOT NULL REFERENCES users (id), status text)`);
        await queryRunner.createIndex("orders", new TableIndex({ name: "orders_user_id_idx", columnNames: ["user_id"] }));
        await queryRunner.query(`CREATE TABLE products (id serial PRIMARY KEY, name text)`);
        %(extra)s
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE products`);
        await queryRunner.query(`DROP TABLE orders`);
        await queryRunner.query(`DROP TABLE users`);
    }
}
"""),
    "sequelize": ("migrations/20250101000000-init.js", """
'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('users', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
      email: { type: Sequelize.TEXT, allowNull: false },
    });
    await queryInterface.createTable('orders', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
      user_id: { type: Sequelize.INTEGER, allowNull: false, references: { model: 'users', key: 'id' } },
      status: { type: Sequelize.TEXT },
    });
    await queryInterface.addIndex('orders', ['user_id'], { name: 'orders_user_id_idx' });
    await queryInterface.createTable('products', {
      id: { type: Sequelize.INTEGER, primaryKey: true, autoIncrement: true },
      name: { type: Sequelize.TEXT },
    });
    %(extra)s
  },
  async down(queryInterface) {
    await queryInterface.dropTable('products');
    await queryInterface.dropTable('orders');
    await queryInterface.dropTable('users');
  },
};
"""),
    "node-pg-migrate": ("migrations/1735689600000_init.js", """
exports.up = async (pgm) => {
  pgm.createTable('users', { id: 'id', email: { type: 'text', notNull: true } });
  pgm.createTable('orders', {
    id: 'id',
    user_id: { type: 'integer', notNull: true, references: 'users' },
    status: { type: 'text' },
  });
  pgm.createIndex('orders', 'user_id', { name: 'orders_user_id_idx' });
  pgm.createTable('products', { id: 'id', name: { type: 'text' } });
  %(extra)s
};
exports.down = (pgm) => {
  pgm.dropTable('products');
  pgm.dropTable('orders');
  pgm.dropTable('users');
};
"""),
}

# Code that ignores the tool's connection and opens its own to `url` (given to the query
# before the connection is up, so pg queues it: the marker check must still go first).
ROGUE = {
    "typeorm": """const { Client } = require("pg");
        const rogue = new Client({ connectionString: %(url)s });
        const up = rogue.connect();
        const made = rogue.query("CREATE TABLE hacked (id int)");
        await up; await made; await rogue.end();""",
}
ROGUE_JS = """const { Client } = require('pg');
  const rogue = new Client({ connectionString: %(url)s });
  const up = rogue.connect();
  const made = rogue.query('CREATE TABLE hacked (id int)');
  await up; await made; await rogue.end();"""

PACKAGE = {"knex": {}, "typeorm": {"dependencies": {"typeorm": "1.1.1", "pg": "8"}},
           "sequelize": {"dependencies": {"sequelize": "6", "pg": "8"}, "devDependencies": {"sequelize-cli": "6"}},
           "node-pg-migrate": {"dependencies": {"node-pg-migrate": "9", "pg": "8"},
                               "scripts": {"migrate": "node-pg-migrate -f npm-config.json"}}}


def make_project(tool: str, root: Path, url: str, nm: Path, extra: str = "", link: bool = True) -> Project:
    """A tool project in `root` whose config hard-codes the database at `url`."""
    root.mkdir(parents=True)
    if link:
        project = Project(tool, root, url, nm)
    else:  # the same project, before `npm install`
        project = Project.__new__(Project)
        project.tool, project.root, project.url, project.nm, project.db = tool, root, url, nm, db_params(url)
        getattr(project, f"setup_{tool.replace('-', '_')}")()
    (root / "package.json").write_text(json.dumps({"name": "app", "private": True, **PACKAGE[tool]}))
    rel, text = INIT[tool]
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text % {"extra": extra})
    return project


@pytest.fixture(scope="module")
def server():
    return dev_server()


def _database(server, name: str):
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name)))
    return server.database_url(name)


def _drop(server, name: str) -> None:
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(name)))


@pytest.fixture
def prod(server):
    """The "production" database a project's config names: one table, one row."""
    name = f"prod_{uuid.uuid4().hex[:8]}"
    url = _database(server, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE accounts (id int PRIMARY KEY, owner text)")
        conn.execute("INSERT INTO accounts VALUES (1, 'alice')")
    yield url
    _drop(server, name)


@pytest.fixture
def scratch(server):
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    yield _database(server, name)
    _drop(server, name)


def prod_state(url: str) -> tuple:
    """What anything run there would change: the relations, the one row, the sessions' statements."""
    with psycopg.connect(url, autocommit=True) as conn:
        relations = sorted(r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"))
        rows = conn.execute("SELECT id, owner FROM accounts").fetchall()
    return relations, rows


PROD_STATE = (["accounts", "accounts_pkey"], [(1, "alice")])


def _names(schema) -> set[str]:
    return {t.name for t in schema.tables}


# -- 1. reading: the project's tool on the dev database, never the config's database --------------

@pytest.mark.slow  # all cases together over 2 s
@pytest.mark.parametrize("tool", TOOLS)
def test_reads_schema_with_the_projects_tool_and_never_touches_the_configs_database(tool, tmp_path, prod,
                                                                                    monkeypatch):
    nm = modules(tool)
    root = tmp_path / "app"
    make_project(tool, root, prod, nm)  # the config hard-codes "prod"
    assert actions.detect_tooling(str(root)).tool == tool

    started = time.perf_counter()
    schema, notes = actions.current_schema(str(root))
    cold = time.perf_counter() - started
    print(f"{tool}: cold read {cold:.2f} s")

    assert {"users", "orders", "products"} <= _names(schema), _names(schema)
    assert TABLE[tool] not in _names(schema)  # the tool's own runs table is no table of the application's
    assert schema.dependencies is not None  # read from PostgreSQL's catalogs, not a static reader
    orders = schema.table("orders")
    fks = [c for c in orders.constraints if c.kind == "foreign_key"]
    assert [(c.columns, c.ref_table, c.ref_columns) for c in fks] == [(["user_id"], "users", ["id"])]
    assert [i.columns for i in orders.indexes if i.name == "orders_user_id_idx"] == [["user_id"]]
    assert not [n for n in notes if "error" in n.lower()], notes
    assert prod_state(prod) == PROD_STATE  # no migration table, no tables, the row as it was

    def no_second_run(job):
        raise AssertionError("the project's tool ran again for unchanged inputs")

    monkeypatch.setattr(RUNNERS[tool], "run", no_second_run)
    again, _ = actions.current_schema(str(root))
    assert again == schema


# -- 2. a plan written for the tool, run by the real tool up, down, up ----------------------------

PLAN = [{"op": "add_column", "table": "users", "column": "nickname", "type": "text"},
        {"op": "add_index", "table": "orders", "columns": ["status"]}]


TYPEORM_STATUS = index_name("typeorm", "orders", ["status"])


def _columns(url: str, table: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))}


def _indexes(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}


def _recorded(url: str, tool: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(psql.SQL("SELECT count(*) FROM {}").format(psql.Identifier(TABLE[tool]))).fetchone()[0]


@pytest.mark.slow
@pytest.mark.parametrize("tool", TOOLS)
def test_written_plan_runs_up_down_up_with_the_real_tool(tool, tmp_path, scratch):
    nm = modules(tool)
    root = tmp_path / "app"
    project = make_project(tool, root, scratch, nm)  # the project's own database: the scratch one
    project.upgrade(None)  # the first migration, as the project has it deployed
    assert _recorded(scratch, tool) == 1

    plan = actions.plan_migration(PLAN, str(root))  # from the schema the dev database read
    outcome = actions.write_migration(plan, str(root))
    assert outcome.files and not outcome.remaining_steps
    written = [root / f for f in outcome.files]
    assert all(f.is_file() and f.parent == (root / "migrations") for f in written), outcome.files
    project.check_syntax(written)

    def applied() -> tuple[bool, bool]:
        # PostgreSQL's name for it, or TypeORM's own (plan/naming.py)
        index = {i for i in _indexes(scratch) if i.startswith("orders_status") or i == TYPEORM_STATUS}
        return "nickname" in _columns(scratch, "users"), bool(index)

    project.upgrade(outcome.plan)
    assert applied() == (True, True) and _recorded(scratch, tool) == 1 + len(written)
    if tool == "knex":  # the last batch only: the plan's files (--all would undo the first migration too)
        project.node(nm / "knex/bin/cli.js", "migrate:rollback", "--knexfile", "knexfile.js")
    else:
        project.rollback(outcome.plan)
    assert applied() == (False, False) and _recorded(scratch, tool) == 1
    project.upgrade(outcome.plan)
    assert applied() == (True, True)

    # Flux's own read follows the written files: the inputs changed, the dev database is built again.
    schema, _ = actions.current_schema(str(root))
    assert "nickname" in {c.name for c in schema.table("users").columns}
    assert any(i.columns == ["status"] for i in schema.table("orders").indexes)


# -- 3. code that connects on its own is stopped by the marker check ------------------------------

@pytest.mark.slow  # all cases together over 2 s
@pytest.mark.parametrize("tool", TOOLS)
def test_a_migration_connecting_elsewhere_is_stopped_before_it_runs_anything_there(tool, tmp_path, prod):
    nm = modules(tool)
    root = tmp_path / "app"
    rogue = ROGUE.get(tool, ROGUE_JS) % {"url": json.dumps(node_url(db_params(prod)))}
    make_project(tool, root, prod, nm, extra=rogue)
    with pytest.raises(FluxInputError) as caught:
        actions.current_schema(str(root))
    message = str(caught.value)
    database = db_params(prod)["database"]
    assert f'database "{database}"' in message and "not Flux's dev database" in message, message
    assert message.startswith(f"{tool}: ") and "\n" not in message
    assert prod_state(prod) == PROD_STATE  # no "hacked" table, no migration table


def test_a_knexfile_connecting_while_it_loads_is_stopped(tmp_path, prod):
    nm = modules("knex")
    root = tmp_path / "app"
    make_project("knex", root, prod, nm)
    url = json.dumps(node_url(db_params(prod)))
    (root / "knexfile.js").write_text(
        "const { Client } = require('pg');\n"
        "module.exports = async () => {\n"
        f"  const c = new Client({{ connectionString: {url} }});\n"
        "  await c.connect();\n"
        "  const { rows } = await c.query(\"SELECT 'prod-secret' AS s\");\n"
        "  await c.query('CREATE TABLE hacked (id int)');\n"
        "  return { client: 'pg', connection: " + url + ", migrations: { directory: './migrations' } };\n"
        "};\n")
    with pytest.raises(FluxInputError, match="not Flux's dev database"):
        actions.current_schema(str(root))
    assert prod_state(prod) == PROD_STATE


def test_a_knexfile_that_does_not_load_names_the_module_and_knex_runs_with_settings_of_flux(tmp_path, prod):
    # Node's message ends in its require stack: the line kept was a file of it (ever-gauzy's data
    # source said "- .../node_driver.cjs" where the cause was "Cannot find module '@gauzy/config'").
    # The migrations need no knexfile (ODK Central's reads a config folder its scripts name): they run
    # with knex's defaults, and the note says why and how.
    from flux_agent.devdb.program import explains_schema
    from flux_agent.devdb.runners.knex import OWN_SETTINGS

    nm = modules("knex")
    root = tmp_path / "app"
    make_project("knex", root, prod, nm)
    (root / "knexfile.js").write_text("const config = require('@acme/config');\nmodule.exports = config.knex;\n")
    schema, notes = actions.current_schema(str(root))
    assert {"users", "orders"} <= _names(schema)
    assert len(notes) == 1, notes
    message = notes[0]
    assert "cannot load" in message and "Cannot find module '@acme/config'" in message and "\n" not in message
    assert "node_driver" not in message and "(required by knexfile.js)" in message  # the file that asked
    assert OWN_SETTINGS in message and not explains_schema(message)
    (root / "knexfile.js").unlink()  # none at all (Joplin's server runs knex itself): the same
    (root / "package.json").write_text(json.dumps({"name": "app", "private": True, "dependencies": {"knex": "3"}}))
    schema, notes = actions.current_schema(str(root))
    assert {"users", "orders"} <= _names(schema) and notes == [f"no knexfile found: {OWN_SETTINGS} (knex's defaults: "
                                                              "the knex_migrations table, each migration in a transaction)"]
    assert prod_state(prod) == PROD_STATE


def test_validate_runs_a_failing_history_once_for_the_files_after_it(tmp_path, prod, monkeypatch):
    # ever-gauzy's 278 migrations, their modules missing, took minutes to be found unreadable: each file
    # ran the tool again (twice) to fail the same way. Within one validate, the files after the one whose
    # history failed are said not run with its reason; the next validate tries again.
    from flux_agent.devdb import before_file as before_mod
    from flux_agent.entry.validate import validate_paths

    nm = modules("knex")
    root = tmp_path / "app"
    make_project("knex", root, prod, nm)
    for n in (2, 3):
        add_migration(root, "knex", n, f"step{n}", SEND["knex"] % "'SELECT 1'")
    (root / "knexfile.js").write_text("module.exports = { client: 'mysql2' };\n")
    builds = []
    real = before_mod.build_before
    monkeypatch.setattr(before_mod, "build_before", lambda place: (builds.append(place.file.name), real(place))[1])
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    for _ in range(2):
        builds.clear()
        _, found = validate_paths([str(root / "migrations")], str(root))
        unread = [f for f in found if f.rule == "not-analysed"]
        assert len(unread) == 3 and all("client is 'mysql2', not PostgreSQL" in f.message for f in unread), unread
        assert len(builds) == 1, builds  # the first file's history only, in each validate


# -- 4. what is missing, in one line --------------------------------------------------------------

@pytest.mark.slow  # all cases together over 2 s
@pytest.mark.parametrize("tool", TOOLS)
def test_missing_node_modules_says_what_to_install(tool, tmp_path, prod):
    nm = modules(tool)
    root = tmp_path / "app"
    make_project(tool, root, prod, nm, link=False)
    with pytest.raises(FluxInputError) as caught:
        actions.current_schema(str(root))
    message = str(caught.value)
    package = {"sequelize": "sequelize-cli"}.get(tool, tool)
    assert message.startswith(f"{package} is not installed in {root}"), message
    assert "`npm install`" in message and "--database-url" in message and "\n" not in message
    assert prod_state(prod) == PROD_STATE


def test_a_failing_migration_is_one_line_with_the_tools_error(tmp_path, prod):
    nm = modules("knex")
    root = tmp_path / "app"
    make_project("knex", root, prod, nm, extra="await knex.raw('ALTER TABLE nowhere ADD COLUMN x int');")
    with pytest.raises(FluxInputError) as caught:
        actions.current_schema(str(root))
    message = str(caught.value)
    assert message.startswith("knex failed migrating Flux's dev database: ")
    assert 'relation "nowhere" does not exist' in message and "\n" not in message
    assert message.endswith("(in migrations/20250101000000_init.js)"), message  # a database error still stops it


def test_a_tool_that_puts_a_stack_in_its_message_is_said_by_the_error_line(tmp_path, prod):
    """node-pg-migrate puts the inner error's stack or place in its message ("Error loading migration
    files: ParseError: Unexpected token\n <file>:1:49", stacks' "at Module.require (node:internal/...)"
    for each of its 63 files): the line said was the place or a frame; it is the error, then where."""
    nm = modules("node-pg-migrate")
    root = tmp_path / "app"
    make_project("node-pg-migrate", root, prod, nm)
    (root / "migrations" / "1735776099999_broken.js").write_text("exports.up = (pgm) => { pgm.sql('SELECT 1') ;;; }}\n")
    with pytest.raises(FluxInputError) as caught:
        actions.current_schema(str(root))
    message = str(caught.value)
    assert "Unexpected token" in message and " at " not in message and "\n" not in message, message
    assert "(migrations/1735776099999_broken.js:1:" in message  # where, after what


# Later migrations in each tool's API: (file name, text) with %(body)s, and how a body sends SQL.
LATER = {
    "knex": ("migrations/2025010%(n)d000000_%(name)s.js",
             "exports.up = async function (knex) {\n  %(body)s\n};\nexports.down = async function () {};\n"),
    "sequelize": ("migrations/2025010%(n)d000000-%(name)s.js",
                  "module.exports = {\n  async up(queryInterface) {\n    %(body)s\n  },\n  async down() {},\n};\n"),
    "node-pg-migrate": ("migrations/17357760%(n)d0000_%(name)s.js",
                        "exports.up = (pgm) => {\n  %(body)s\n};\nexports.down = () => {};\n"),
    "typeorm": ("migrations/17357760%(n)d0000-%(name)s.ts",
                'import { MigrationInterface, QueryRunner } from "typeorm";\n'
                "export class M17357760%(n)d0000 implements MigrationInterface {\n"
                "  public async up(queryRunner: QueryRunner): Promise<void> {\n    %(body)s\n  }\n"
                "  public async down(): Promise<void> {}\n}\n"),
}
SEND = {"knex": "await knex.raw(%s);", "sequelize": "await queryInterface.sequelize.query(%s);",
        "node-pg-migrate": "pgm.sql(%s);", "typeorm": "await queryRunner.query(%s);"}


def add_migration(root: Path, tool: str, n: int, name: str, body: str) -> str:
    rel, text = LATER[tool]
    rel = rel % {"n": n, "name": name}
    (root / rel).write_text(text % {"n": n, "body": body})
    return rel


@pytest.mark.slow  # all cases together over 2 s
@pytest.mark.parametrize("tool", TOOLS)
def test_a_migration_failing_without_a_database_error_is_left_out_with_a_note(tool, tmp_path, prod):
    """outline's data migrations run a script from the app's build (`node build/server/scripts/...`),
    which a checkout has not built: the tool goes on without them, and says so."""
    nm = modules(tool)
    root = tmp_path / "app"
    make_project(tool, root, prod, nm)
    send = SEND[tool]
    script = add_migration(root, tool, 2, "fill_titles",
                           "require('child_process').execSync('node build/scripts/fill-titles.js', { stdio: 'pipe' });")
    partial = add_migration(root, tool, 3, "half_done",
                            send % "'CREATE TABLE half_done (id int)'" + " throw new Error('the app is not built');")
    add_migration(root, tool, 4, "after_them", send % "'CREATE TABLE after_them (id int)'")

    schema, notes = actions.current_schema(str(root))
    assert {"users", "half_done", "after_them"} <= _names(schema), _names(schema)
    assert notes == [
        f"{partial} failed part-way without a database error and the tool went on (the app is not built); "
        "the 1 statement it ran before that stand",
        f"left out 1 migration that failed before sending any query, so the schema is the same without it: "
        f"{script} (Command failed: node build/scripts/fill-titles.js)"], notes
    assert prod_state(prod) == PROD_STATE


def test_a_knexfile_choosing_its_client_from_the_environment(tmp_path, monkeypatch):
    """kutt's knexfile takes its client from DB_CLIENT (better-sqlite3 when unset) and its server from
    DB_HOST: the driver's name reaches the tool from Flux's environment, the server's never."""
    nm = modules("knex")
    root = tmp_path / "app"
    make_project("knex", root, "host=/nowhere dbname=none user=u", nm)
    (root / "knexfile.js").write_text(
        "module.exports = { client: process.env.DB_CLIENT || 'better-sqlite3',\n"
        "  connection: { host: process.env.DB_HOST, database: 'kutt' }, migrations: { directory: './migrations' } };\n")
    monkeypatch.setenv("DB_HOST", "prod.example.com")
    with pytest.raises(FluxInputError) as caught:
        actions.current_schema(str(root))
    assert "client is 'better-sqlite3', not PostgreSQL" in str(caught.value)
    assert "environment variable such as DB_CLIENT" in str(caught.value)
    monkeypatch.setenv("DB_CLIENT", "pg")
    schema, _ = actions.current_schema(str(root))
    assert {"users", "orders", "products"} <= _names(schema)


def test_no_knexfile_and_no_node(tmp_path, monkeypatch):
    from flux_agent.devdb.program import tool_run

    root = tmp_path / "app"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "20250101000000_init.js").write_text("exports.up = async () => {};\n")
    job = tool_run(root, "migrations", "host=/nowhere dbname=x user=u", "m")
    job.env["PATH"] = str(tmp_path / "empty")
    with pytest.raises(FluxInputError, match=r"node is not installed.*install Node.js.*--database-url"):
        RUNNERS["knex"].run(job)


# -- the project's own config, as projects write it ------------------------------------------------

def test_a_typescript_knexfile_with_production_settings_only(tmp_path):
    """knexfile.ts (ts-node), TypeScript migrations in db/migrations, settings for production only,
    their connection from an environment variable Flux does not pass on."""
    nm = modules("knex")
    root = tmp_path / "app"
    (root / "db" / "migrations").mkdir(parents=True)
    (root / "node_modules").symlink_to(nm, target_is_directory=True)
    (root / "knexfile.ts").write_text(
        'import type { Knex } from "knex";\n'
        "const config: { [env: string]: Knex.Config } = {\n"
        '  production: { client: "postgresql", connection: process.env.PROD_URL,\n'
        '                migrations: { directory: "./db/migrations", tableName: "knex_history" } },\n'
        "};\nexport default config;\n")
    (root / "db" / "migrations" / "20250101000000_things.ts").write_text(
        'import type { Knex } from "knex";\n'
        "export async function up(knex: Knex): Promise<void> {\n"
        '  await knex.schema.createTable("things", (t) => { t.bigIncrements("id"); t.string("name", 80); });\n'
        "}\nexport async function down(knex: Knex): Promise<void> { await knex.schema.dropTable(\"things\"); }\n")
    schema, notes = actions.current_schema(str(root))
    # its runs table, named in the knexfile, is knex's own: not the application's (project/applied.runs_table)
    assert "things" in _names(schema) and not {"knex_history", "knex_history_lock"} & _names(schema)
    assert [c.type for c in schema.table("things").columns] == ["bigint", "character varying(80)"]
    assert notes == ["the knexfile has no development settings: its production settings were used, on the dev database"]


def test_a_typeorm_data_source_named_by_a_script_with_a_url_and_compiled_migrations(tmp_path, prod):
    """The DataSource the package.json script gives `typeorm -d` (src/db/source.ts), connecting by
    URL with SSL to "prod", its migrations globbing compiled output that is not built: Flux runs the
    TypeScript migrations of the folder it was told, on the dev database."""
    nm = modules("typeorm")
    root = tmp_path / "app"
    (root / "src" / "db" / "migrations").mkdir(parents=True)
    (root / "node_modules").symlink_to(nm, target_is_directory=True)
    (root / "package.json").write_text(json.dumps({"dependencies": {"typeorm": "1.1.1"}, "scripts": {
        "migrate": "typeorm-ts-node-commonjs -d ./src/db/source.ts migration:run"}}))
    (root / ".flux.yaml").write_text("migrations_dir: src/db/migrations\n")
    (root / "tsconfig.json").write_text(json.dumps({"compilerOptions": {
        "module": "nodenext", "moduleResolution": "nodenext", "experimentalDecorators": True}}))
    (root / "src" / "db" / "source.ts").write_text(
        'import "reflect-metadata";\nimport { DataSource } from "typeorm";\n'
        f"export const AppDataSource = new DataSource({{ type: \"postgres\", url: {json.dumps(node_url(db_params(prod)))},"
        ' ssl: true, migrations: ["dist/migrations/*.js"], migrationsTableName: "typeorm_history" });\n')
    (root / "src" / "db" / "migrations" / "1735689600000-Widgets.ts").write_text(
        'import { MigrationInterface, QueryRunner } from "typeorm";\n'
        "export class Widgets1735689600000 implements MigrationInterface {\n"
        "  public async up(q: QueryRunner): Promise<void> { await q.query(`CREATE TABLE widgets (id int PRIMARY KEY)`); }\n"
        "  public async down(q: QueryRunner): Promise<void> { await q.query(`DROP TABLE widgets`); }\n}\n")
    schema, notes = actions.current_schema(str(root))
    assert {"widgets", "typeorm_history"} <= _names(schema)
    assert notes == ['the data source\'s migrations ["dist/migrations/*.js"] match no file: ran those in '
                     "src/db/migrations"]
    assert prod_state(prod) == PROD_STATE


@pytest.mark.parametrize("source", ["unbuilt", "none"])
def test_typeorm_migrations_run_where_the_data_source_does_not_load(tmp_path, source):
    """misskey's ormconfig.js imports its build output (built/config.js): in a checkout not built, the
    data source does not load, and neither does a project without one. The migrations need neither
    (no entities, only TypeORM and a connection): Flux runs them with a data source of its own and
    says so, where every file was "not analysed" before (misskey: 276 of 276)."""
    from flux_agent.devdb.program import explains_schema
    from flux_agent.devdb.runners.typeorm import OWN_SOURCE

    nm = modules("typeorm")
    root = tmp_path / "app"
    (root / "migration").mkdir(parents=True)
    (root / "node_modules").symlink_to(nm, target_is_directory=True)
    (root / "package.json").write_text(json.dumps({"type": "module", "dependencies": {"typeorm": "1.1.1"}}))
    if source == "unbuilt":
        (root / "ormconfig.js").write_text(
            "import { DataSource } from 'typeorm';\nimport { loadConfig } from './built/config.js';\n"
            "const config = loadConfig();\nexport default new DataSource({ type: 'postgres', host: config.db.host, "
            "migrations: ['migration/*.js'] });\n")
    (root / "migration" / "1735689600000-Widgets.js").write_text(
        "export class Widgets1735689600000 {\n"
        "  async up(q) { await q.query(`CREATE TABLE widgets (id int PRIMARY KEY)`); }\n"
        "  async down(q) { await q.query(`DROP TABLE widgets`); }\n}\n")
    (root / ".flux.yaml").write_text("tool: typeorm\nmigrations_dir: migration\n")
    schema, notes = actions.current_schema(str(root))
    assert "widgets" in _names(schema)
    why = ("cannot load the TypeORM data source ormconfig.js: Cannot find module" if source == "unbuilt"
           else "no TypeORM DataSource file found")
    assert len(notes) == 1 and notes[0].startswith(why), notes
    assert notes[0].endswith(f"{OWN_SOURCE} (no entities, TypeORM's default naming strategy, migrations table and "
                             "transaction mode)")
    assert not explains_schema(notes[0])  # how the migrations ran, not why a refusal's object is missing


def test_sequelize_without_its_config_is_one_line(tmp_path):
    nm = modules("sequelize")
    root = tmp_path / "app"
    make_project("sequelize", root, "host=/nowhere dbname=none user=u", nm)
    (root / "config" / "config.json").unlink()
    with pytest.raises(FluxInputError) as caught:
        actions.current_schema(str(root))
    assert str(caught.value) == ("sequelize: no sequelize config: config/config.json does not exist (npx sequelize-cli "
                                 "init:config makes one); fix that, or give --database-url")


def test_node_pg_migrate_takes_its_scripts_options_but_not_its_database_or_folder(tmp_path):
    from flux_agent.devdb.runners import node_pg_migrate

    (tmp_path / "package.json").write_text(json.dumps({"scripts": {
        "build": "tsc",
        "migrate": "dotenv -- node-pg-migrate -d APP_DB -m db/migrations -t schema_history --schema=app "
                   "--check-order -f config/pgm.json up 3 && echo done"}}))
    args = node_pg_migrate.script_args(tmp_path)
    assert args[-1] == "3" and "echo" not in args
    kept, folder = node_pg_migrate.options(args)
    assert kept == ["-t", "schema_history", "--schema=app", "--check-order", "-f", "config/pgm.json"]
    assert folder == "db/migrations"
    assert node_pg_migrate.config_file(tmp_path, kept) == tmp_path / "config" / "pgm.json"


def test_a_typescript_knexfile_registering_ts_node_itself(tmp_path):
    """Infisical's knexfile.ts starts with `import "ts-node/register"`: a second, type-checking compiler
    over Flux's output failed on types the first had removed (TS7006 at a comment's line), and every
    file was not analysed."""
    nm = modules("knex")
    if not (nm / "ts-node" / "package.json").is_file():
        pytest.skip("ts-node is not installed (npm install --prefix tests/node)")
    root = tmp_path / "app"
    (root / "migrations").mkdir(parents=True)
    (root / "node_modules").symlink_to(nm, target_is_directory=True)
    (root / "package.json").write_text(json.dumps({"name": "app", "private": True, "dependencies": {"knex": "3"}}))
    (root / "tsconfig.json").write_text(json.dumps({"compilerOptions": {"strict": True, "esModuleInterop": True}}))
    (root / "knexfile.ts").write_text('import "ts-node/register";\nimport type { Knex } from "knex";\n\n'
                                      'export default {\n  development: { client: "postgres", connection: {} },\n'
                                      '} as { [env: string]: Knex.Config };\n')
    (root / "migrations" / "20240101000000_users.ts").write_text(
        'import { Knex } from "knex";\n\n// a comment the second compiler counted as code\n'
        'export async function up(knex: Knex): Promise<void> {\n'
        '  await knex.schema.createTable("users", (t) => {\n    t.uuid("id").primary();\n'
        '    t.string("email").notNullable();\n  });\n}\n\n'
        'export async function down(knex: Knex): Promise<void> {\n  await knex.schema.dropTable("users");\n}\n')
    schema, _ = actions.current_schema(str(root))
    assert {c.name for c in schema.table("users").columns} == {"id", "email"}


def test_a_typeorm_file_its_index_does_not_list_is_judged_without_the_index_s_classes_twice(tmp_path, prod,
                                                                                           monkeypatch):
    """Flowise's migrations folder holds an index.ts listing its classes for the DataSource: a file not
    (yet) listed was judged by running the folder's files, the index among them, whose array gave each
    class a second time ("Duplicate migrations": not analysed). The index file is not a migration."""
    from flux_agent.entry.validate import validate_paths

    nm = modules("typeorm")
    root = tmp_path / "app"
    make_project("typeorm", root, prod, nm)
    (root / "migrations" / "index.ts").write_text("import { Init1735689600000 } from './1735689600000-Init'\n"
                                                  "export const all = [Init1735689600000]\n")
    source = (root / "data-source.ts").read_text()
    (root / "data-source.ts").write_text(source.replace('import { DataSource } from "typeorm";',
                                                        'import { DataSource } from "typeorm";\n'
                                                        'import { all } from "./migrations";')
                                         .replace('migrations: [__dirname + "/migrations/*.ts"]', "migrations: all"))
    new = add_migration(root, "typeorm", 2, "Late", SEND["typeorm"] % "`CREATE INDEX orders_status_idx ON orders (status)`")
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    _, found = validate_paths([str(root / new)], str(root))
    assert "not-analysed" not in {f.rule for f in found}, [f.message for f in found]
    assert "require-concurrent-index-creation" in {f.rule for f in found}  # judged, as what it sends


def test_typeorm_entities_that_do_not_load_as_flux_compiles_them_leave_the_migrations_to_run(tmp_path, prod):
    """Flowise's Execution.state is typed by an alias from another module: compiled without type
    information (as Flux loads TypeScript), its decorator metadata says Object, and TypeORM refused
    the whole DataSource ("Data type Object ... is not supported"). The migrations need no entities:
    they run without them, and a note says so."""
    nm = modules("typeorm")
    root = tmp_path / "app"
    make_project("typeorm", root, prod, nm)
    (root / "types.ts").write_text("export type JobState = 'queued' | 'done';\n")
    (root / "job.ts").write_text('import { Entity, PrimaryGeneratedColumn, Column } from "typeorm";\n'
                                 'import { JobState } from "./types";\n'
                                 "@Entity()\nexport class Job {\n  @PrimaryGeneratedColumn() id!: number;\n"
                                 "  @Column() state!: JobState;\n}\n")
    source = (root / "data-source.ts").read_text()
    (root / "data-source.ts").write_text(source.replace('import { DataSource } from "typeorm";',
                                                        'import { DataSource } from "typeorm";\nimport { Job } from "./job";')
                                         .replace("migrations: [", "entities: [Job], migrations: ["))
    schema, notes = actions.current_schema(str(root))
    assert {"users", "orders", "products"} <= _names(schema)
    assert any("entities do not load as Flux compiles TypeScript" in n for n in notes), notes
