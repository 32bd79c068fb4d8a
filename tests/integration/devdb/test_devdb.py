"""The dev database: a real PostgreSQL holds the project's schema, built from the project's
own files, cached by their hash, and never the application's database."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from flux_agent.devdb.project import project_schema
from flux_agent.devdb.server import find_binaries
from flux_agent.project.config import load_settings
from flux_agent.project.detect import detect
from flux_agent.schema.normal import normal_expr

from shop import SHOP

pytestmark = pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries on this machine")


def test_jsonb_default_is_compared_as_postgresql_stores_it():
    # PostgreSQL keeps a jsonb value, not its text: keys shortest first, then in byte order.
    assert normal_expr('\'{"server":{"port":1,"type":"x"},"a":[1,2.50]}\'::jsonb', target="jsonb") == \
        '\'{"a": [1, 2.50], "server": {"port": 1, "type": "x"}}\''


def _shop(tmp_path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(SHOP, target)
    return target


def _schema_of(project: Path, **settings):
    loaded = load_settings(project, **settings)
    return project_schema(project, detect(project, None, loaded), loaded)


@pytest.mark.pg
def test_shop_builds_then_comes_from_the_cache(tmp_path):
    project = _shop(tmp_path)
    first = _schema_of(project)
    assert {t.name for t in first.schema.tables} == {"users", "products", "orders", "order_items", "legacy_events"}
    # The dev server's statistics and settings say nothing of production's: the estimates never see them.
    assert first.schema.server is None and all(t.size_bytes is None for t in first.schema.tables)
    again = _schema_of(project)
    assert again.cached and again.schema == first.schema
    # A change to any input is a new build that sees it.
    (project / "db" / "migrations" / "20260101000000_more.sql").write_text(
        "-- migrate:up\nALTER TABLE users ADD COLUMN nickname text;\n-- migrate:down\n"
        "ALTER TABLE users DROP COLUMN nickname;\n")
    changed = _schema_of(project)
    assert not changed.cached and changed.schema.table("users").column("nickname") is not None


def test_a_database_url_in_the_project_environment_is_never_used(pg_url, tmp_path, monkeypatch):
    """The application's database (DATABASE_URL in the environment or in the project's .env)
    is never read, written or used to create anything: the dev database is Flux's own."""
    from flux_agent.entry import actions
    from flux_agent.errors import FluxInputError
    from flux_agent.verify import verify

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE app_only (id bigint)")
        before = conn.execute("SELECT count(*) FROM pg_database").fetchone()[0]
    project = _shop(tmp_path)
    (project / ".env").write_text(f"DATABASE_URL={pg_url}\n")
    monkeypatch.setenv("DATABASE_URL", pg_url)
    schema = actions.read_schema(str(project))
    assert schema.table("users") is not None and schema.table("app_only") is None
    report = verify(project, operations=[{"op": "add_index", "table": "orders", "columns": ["user_id"]}], rows=20)
    assert report.ok and "dev database" in report.database
    knex = tmp_path / "knex"
    knex.mkdir()
    (knex / "knexfile.js").write_text("module.exports = { client: 'pg', connection: process.env.DATABASE_URL };\n")
    (knex / ".env").write_text(f"DATABASE_URL={pg_url}\n")
    with pytest.raises(FluxInputError, match="--database-url"):
        actions.read_schema(str(knex), tool="knex")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database").fetchone()[0] == before  # no scratch made there
        assert conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid()").fetchone()[0] == 0


@pytest.mark.pg
def test_the_server_flux_owns_is_checked_before_use(tmp_path):
    from flux_agent.devdb.server import Server, check_identity, dev_server
    from flux_agent.errors import FluxInternalError

    server = dev_server()
    impostor = Server(server.url, server.major, "not ours", True, identity="12345")
    with psycopg.connect(server.url, autocommit=True) as conn:
        check_identity(server, conn)  # the real one passes
        with pytest.raises(FluxInternalError, match="not Flux's dev database server"):
            check_identity(impostor, conn)


@pytest.mark.pg
def test_an_extension_named_as_a_missing_type_is_created_with_a_note(tmp_path):
    from conftest import dev_server_has

    if not dev_server_has("citext"):
        pytest.skip("the dev database server has no citext (install postgresql-contrib)")
    folder = tmp_path / "p" / "db" / "migrations"
    folder.mkdir(parents=True)
    # Prisma projects use @db.Citext without creating the extension; a history may too.
    (folder / "001_people.sql").write_text("-- migrate:up\nCREATE TABLE people (id bigint PRIMARY KEY, "
                                           "email citext NOT NULL);\n-- migrate:down\n")
    built = _schema_of(tmp_path / "p")
    assert built.schema.table("people").column("email").type == "citext"
    assert built.schema.extensions == ["citext"]
    assert built.notes == ["db/migrations/001_people.sql:2: created extension 'citext', whose type the migrations "
                           "use but do not create"]


@pytest.mark.pg
def test_a_failing_transactional_file_runs_statement_by_statement_in_its_transaction():
    """A file its tool runs in a transaction, with a statement that fails here (hatchet's history
    locks tables a Go migration made): the rest of it still runs, in one transaction, so LOCK TABLE
    and SET LOCAL work; its own BEGIN/COMMIT do not end that transaction. A file run outside a
    transaction (CREATE INDEX CONCURRENTLY) still runs in autocommit."""
    from flux_agent.devdb.build import Script, build, inputs_hash
    from flux_agent.devdb.server import dev_server

    scripts = [
        Script("001_a.sql", "CREATE TABLE a (id int);"),
        Script("002_b.sql", "LOCK TABLE a IN ACCESS EXCLUSIVE MODE;\nALTER TABLE missing ADD COLUMN x int;\n"
                            "BEGIN;\nSET LOCAL lock_timeout = '1s';\nALTER TABLE a ADD COLUMN b int;\nCOMMIT;\n"
                            "ALTER TABLE a ADD COLUMN c int;", line_offset=1),
        Script("003_c.sql", "CREATE INDEX CONCURRENTLY a_b ON a (b);", transactional=False),
    ]
    server = dev_server()
    built = build(server, scripts, inputs_hash(scripts, server.major, "transactional fallback"))
    assert built.notes == ['002_b.sql:3: statement skipped: relation "missing" does not exist']
    table = built.schema.table("a")
    assert [c.name for c in table.columns] == ["id", "b", "c"]
    assert [i.name for i in table.indexes] == ["a_b"]


@pytest.mark.pg
def test_a_script_run_as_psql_runs_it_goes_on_past_a_role_an_earlier_build_made():
    """sqitch's scripts (psql's: their own BEGIN/COMMIT, no transaction of the tool's) may make a role.
    Roles outlive a database: built again, on the same server, the CREATE ROLE failed ("already
    exists"), the script's transaction aborted, and every later statement of it was skipped (BeeeOn:
    no table after the first edit). The role made already is taken as made; a statement that fails
    in the script's transaction no longer takes the rest of it down."""
    import uuid

    from flux_agent.devdb.build import Script, build, inputs_hash
    from flux_agent.devdb.server import dev_server

    role = f"flux_test_{uuid.uuid4().hex[:8]}"
    text = (f"BEGIN;\nCREATE ROLE {role} WITH LOGIN;\nCREATE TABLE users (id bigint PRIMARY KEY);\n"
            "ALTER TABLE missing ADD COLUMN x int;\nCREATE TABLE orders (id bigint PRIMARY KEY);\nCOMMIT;\n")
    server = dev_server()
    try:
        for attempt in ("first", "again"):
            scripts = [Script("deploy/users.sql", text, transactional=False)]
            built = build(server, scripts, inputs_hash(scripts, server.major, f"psql script {role} {attempt}"))
            assert built.notes == ['deploy/users.sql:4: statement skipped: relation "missing" does not exist'], attempt
            assert [t.name for t in built.schema.tables] == ["users", "orders"], attempt
    finally:
        with psycopg.connect(server.url, autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {role}")


RAILS_VIRTUAL = """ActiveRecord::Schema[7.2].define(version: 2025_01_01_000000) do
  create_table "accounts", force: :cascade do |t|
    t.string "accountable_type"
    t.decimal "balance", precision: 19, scale: 4
    t.virtual "classification", type: :string, as: "\\nCASE\\n    WHEN ((accountable_type)::text = 'Loan'::text) THEN 'liability'::text\\n    ELSE 'asset'::text\\nEND", stored: true
  end
end
"""


@pytest.mark.pg
def test_a_rails_virtual_column_is_generated_in_the_dev_database_and_its_source_cannot_be_planned_away(tmp_path):
    # schema.rb's model made real lost `t.virtual ... stored: true` (a plain column): no catalog said
    # classification is computed from accountable_type, and a rename planned the old column's drop,
    # which PostgreSQL refuses at the contract step ("column classification depends on it").
    from flux_agent.entry import actions
    from flux_agent.errors import FluxInputError

    (tmp_path / "Gemfile").write_text('gem "rails"\n')
    (tmp_path / "db" / "migrate").mkdir(parents=True)
    (tmp_path / "db" / "schema.rb").write_text(RAILS_VIRTUAL)
    built = _schema_of(tmp_path)
    column = built.schema.table("accounts").column("classification")
    assert column.generated == "CASE WHEN accountable_type = 'Loan' THEN 'liability' ELSE 'asset' END"
    assert column.default is None
    deps = [(d.kind, d.name, d.columns) for d in built.schema.dependencies.on("accounts", "accountable_type")]
    assert ("generated_column", "classification", ["accountable_type"]) in deps
    for op in ({"op": "rename_column", "table": "accounts", "column": "accountable_type", "new_name": "kind"},
               {"op": "drop_column", "table": "accounts", "column": "accountable_type"}):
        with pytest.raises(FluxInputError, match="generated column accounts.classification"):
            actions.plan_migration([op], str(tmp_path))


@pytest.mark.pg
def test_syntax_of_a_newer_postgresql_is_said_to_need_one():
    """lemmy's history used a subquery without an alias (PostgreSQL 16) and the dev database ran 15:
    "subquery in FROM must have an alias", then 95 statements skipped after it, and no word why.
    pglast (PostgreSQL 17's parser) cut the statement out of the file: the server is older."""
    from pglast.parser import get_postgresql_version

    from flux_agent.devdb.build import Script, build, inputs_hash
    from flux_agent.devdb.server import dev_server

    server = dev_server()
    ours = get_postgresql_version()[0]
    if server.major >= ours:
        pytest.skip(f"the dev server runs PostgreSQL {server.major}, whose parser reads PostgreSQL {ours}'s syntax")
    scripts = [Script("001_json.sql", "CREATE TABLE j (doc jsonb);\n"
                      "CREATE VIEW jt AS SELECT * FROM JSON_TABLE('[1]'::jsonb, '$[*]' COLUMNS (x int PATH '$'));\n"
                      "CREATE VIEW missing AS SELECT * FROM nowhere;\n", transactional=False)]
    built = build(server, scripts, inputs_hash(scripts, server.major, "newer syntax"))
    newer, other = built.notes
    assert newer.startswith("001_json.sql:2: statement skipped: syntax error") and \
        f"PostgreSQL {ours}'s parser reads it; this dev database runs PostgreSQL {server.major}: set dev_url" in newer
    assert other == '001_json.sql:3: statement skipped: relation "nowhere" does not exist'  # no such word on others


def test_pruning_goes_past_a_database_another_process_is_dropping():
    """Two Flux processes on one dev server: one dropped a build database while the other's _prune read
    its files (`could not stat file "base/20713/PG_VERSION"`), and the whole validate ended in an internal
    error. A database whose files are gone is passed over."""
    import uuid

    from psycopg import sql as psql

    from flux_agent.devdb.build import _prune
    from flux_agent.devdb.server import dev_server

    server = dev_server()
    name = f"flux_gone_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name)))
        try:
            oid, data = admin.execute("SELECT oid, current_setting('data_directory') FROM pg_database "
                                      "WHERE datname = %s", (name,)).fetchone()
            (Path(data) / "base" / str(oid) / "PG_VERSION").unlink()  # as mid-drop
            with pytest.raises(psycopg.Error, match="could not stat file"):  # what the read did before
                admin.execute("SELECT pg_stat_file('base/' || %s || '/PG_VERSION')", (str(oid),))
            _prune(admin)
            assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        finally:
            admin.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(name)))


def test_a_prisma_project_whose_extension_the_server_lacks_is_read_from_its_migrations(tmp_path):
    """formbricks uses pgvector, which the dev database server lacked: the schema was then read from
    schema.prisma, which differed from what the migrations build (a column a migration adds, key names
    PostgreSQL truncated), and a plan on that column failed. Its migrations, replayed, are the schema."""
    from flux_agent.entry import actions

    root = tmp_path / "app"
    for name, sql in {"20240101000000_init": 'CREATE EXTENSION IF NOT EXISTS "flux_no_such_extension";\n'
                                             'CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT NOT NULL, '
                                             'CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n',
                      "20240201000000_verified": 'ALTER TABLE "User" ADD COLUMN "email_verified_at" TIMESTAMP(3);\n'}.items():
        (root / "prisma" / "migrations" / name).mkdir(parents=True)
        (root / "prisma" / "migrations" / name / "migration.sql").write_text(sql)
    (root / "prisma" / "schema.prisma").write_text(  # behind the migrations: no email_verified_at
        'datasource db {\n  provider = "postgresql"\n}\n\nmodel User {\n  id    String @id\n  email String\n}\n')
    schema, notes = actions.current_schema(str(root))
    assert {c.name for c in schema.table("User").columns} == {"id", "email", "email_verified_at"}
    assert any("lacks an extension" in n and "read without PostgreSQL" in n for n in notes), notes
