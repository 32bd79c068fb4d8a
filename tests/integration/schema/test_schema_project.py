"""The reader a project's tool calls for, through tools.read_schema."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flux_agent.entry import actions as tools
from flux_agent.errors import FluxInputError

pytestmark = pytest.mark.pg  # read_schema reads a project through the dev database (PostgreSQL)


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_prisma_project_reads_schema_prisma(tmp_path):
    _write(tmp_path, "prisma/schema.prisma", """
        datasource db { provider = "postgresql" url = env("DATABASE_URL") }
        model User {
          id    Int    @id @default(autoincrement())
          email String @unique @map("email_address")
          @@map("users")
        }
    """)
    schema = tools.read_schema(str(tmp_path))
    users = schema.table("users")
    assert users and [c.name for c in users.columns] == ["id", "email_address"]


def test_rails_project_reads_schema_rb(tmp_path):
    _write(tmp_path, "Gemfile", 'gem "rails"\n')
    _write(tmp_path, "db/migrate/.keep", "")
    _write(tmp_path, "db/schema.rb", """
        ActiveRecord::Schema[7.1].define(version: 2024_01_01_000000) do
          create_table "accounts", force: :cascade do |t|
            t.string "name", null: false
          end
        end
    """)
    schema = tools.read_schema(str(tmp_path), tool="rails")
    col = schema.table("accounts").column("name")
    assert col.type == "character varying" and col.nullable is False


def test_flyway_versions_replay_in_numeric_order(tmp_path):
    _write(tmp_path, "flyway.conf", "flyway.locations=filesystem:db/migration\n")
    _write(tmp_path, "db/migration/V2__add.sql", "ALTER TABLE t ADD COLUMN b text;\n")
    _write(tmp_path, "db/migration/V10__rename.sql", "ALTER TABLE t RENAME COLUMN b TO c;\n")
    _write(tmp_path, "db/migration/V1__create.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n")
    _write(tmp_path, "db/migration/U10__rename.sql", "ALTER TABLE t RENAME COLUMN c TO b;\n")
    schema = tools.read_schema(str(tmp_path), tool="flyway")
    assert [c.name for c in schema.table("t").columns] == ["id", "c"]  # by name, V10 would run before V2


def test_sqitch_replays_deploy_scripts_in_plan_order(tmp_path):
    _write(tmp_path, "sqitch.plan", """
        %syntax-version=1.0.0
        %project=demo

        b_second [a_first] 2024-01-02T00:00:00Z Dev <d@x> # add column
        a_first 2024-01-01T00:00:00Z Dev <d@x> # table
    """)
    _write(tmp_path, "deploy/a_first.sql", "BEGIN;\nCREATE TABLE t (id bigint PRIMARY KEY);\nCOMMIT;\n")
    _write(tmp_path, "deploy/b_second.sql", "BEGIN;\nALTER TABLE t ADD COLUMN b text;\nCOMMIT;\n")
    # plan order: b_second runs before the table exists, so its column never appears
    assert [c.name for c in tools.read_schema(str(tmp_path), tool="sqitch").table("t").columns] == ["id"]
    _write(tmp_path, "sqitch.plan", """
        %project=demo
        a_first 2024-01-01T00:00:00Z Dev <d@x> # table
        b_second [a_first] 2024-01-02T00:00:00Z Dev <d@x> # add column
    """)
    assert [c.name for c in tools.read_schema(str(tmp_path), tool="sqitch").table("t").columns] == ["id", "b"]


def test_program_code_migrations_need_a_database(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _write(tmp_path, "knexfile.js", "module.exports = {};\n")
    with pytest.raises(FluxInputError, match="--database-url"):
        tools.read_schema(str(tmp_path), tool="knex")


def test_dbmate_without_migrations_reads_the_dump(tmp_path):
    _write(tmp_path, "db/schema.sql", """
        \\restrict abc
        CREATE TABLE public.things (id bigint NOT NULL, label text);
        ALTER TABLE ONLY public.things ADD CONSTRAINT things_pkey PRIMARY KEY (id);
    """)
    schema = tools.read_schema(str(tmp_path), tool="dbmate")
    assert schema.table("things").primary_key == ["id"]


WIDGETS = '''
    from alembic import op
    revision = "aaaa00000001"
    down_revision = None
    def upgrade():
        op.execute("CREATE TABLE widgets (id bigint PRIMARY KEY, name text NOT NULL)")
    def downgrade():
        op.execute("DROP TABLE widgets")
'''


@pytest.mark.slow
def test_alembic_offline_mode_is_replayed(tmp_path, monkeypatch):
    pytest.importorskip("alembic")
    monkeypatch.setenv("FLUX_DEVDB", "off")  # the static reader (the dev database's runner: test_program_python)
    subprocess.run([sys.executable, "-m", "alembic", "init", "alembic"], cwd=tmp_path, check=True,
                   capture_output=True)
    ini = tmp_path / "alembic.ini"
    ini.write_text(ini.read_text().replace("driver://user:pass@localhost/dbname",
                                           "postgresql://u@localhost/db"))
    _write(tmp_path, "alembic/versions/aaaa00000001_create.py", WIDGETS)
    schema = tools.read_schema(str(tmp_path), tool="alembic")
    assert schema.table("widgets").column("name").nullable is False


def test_alembic_failure_points_to_database_url(tmp_path, monkeypatch):
    monkeypatch.setenv("FLUX_DEVDB", "off")
    _write(tmp_path, "alembic.ini", "[alembic]\nscript_location = missing\n")
    with pytest.raises(FluxInputError, match="--database-url"):
        tools.read_schema(str(tmp_path), tool="alembic")


LOGGING = ("[loggers]\nkeys = root\n\n[handlers]\nkeys = console\n\n[formatters]\nkeys = generic\n\n"
           "[logger_root]\nlevel = WARN\nhandlers = console\n\n[handler_console]\nclass = StreamHandler\n"
           "args = (sys.stderr,)\nformatter = generic\n\n[formatter_generic]\nformat = %%(message)s\n")


@pytest.mark.slow
def test_alembic_offline_mode_finds_a_named_section_below_the_project(tmp_path, monkeypatch):
    """dispatch: src/dispatch/alembic.ini, sections core and tenant, no [alembic]. Without the dev
    database Flux looked for alembic.ini at the project's root only ("no alembic.ini")."""
    pytest.importorskip("alembic")
    monkeypatch.setenv("FLUX_DEVDB", "off")
    app = tmp_path / "src" / "app"
    app.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "alembic", "init", "tenant"], cwd=app, check=True, capture_output=True)
    (app / "alembic.ini").write_text("[core]\nscript_location = %(here)s/core\nsqlalchemy.url = postgresql://u@h/db\n\n"
                                     "[tenant]\nscript_location = %(here)s/tenant\n"
                                     "sqlalchemy.url = postgresql://u@h/db\n\n" + LOGGING)
    _write(app, "tenant/versions/aaaa00000001_create.py", WIDGETS)
    schema = tools.read_schema(str(tmp_path), tool="alembic")
    assert schema.table("widgets").column("name").nullable is False
