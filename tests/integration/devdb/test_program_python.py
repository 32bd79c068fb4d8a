"""Django and Alembic projects read through the dev database by their own tool (issue 16): the
project's manage.py migrate or env.py fills Flux's dev database, with no --database-url; plans
written on that schema run up, down and up by the real tool; every connection the project's code
opens is checked to reach the dev database, so a project that points elsewhere is stopped before
anything runs there; a missing dependency is one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as psql

from django_site import MANAGE
from flux_agent.devdb.runners import RUNNERS
from flux_agent.devdb.server import dev_server, find_binaries
from flux_agent.entry import actions as tools
from flux_agent.errors import FluxInputError

pytest.importorskip("django")
pytest.importorskip("alembic")
pytestmark = [pytest.mark.pg,
              pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries on this machine")]

BOOKS = {"library_author": {"id", "name"}, "library_book": {"id", "title", "author_id", "pages"}}
OPS = [{"op": "add_column", "table": "{book}", "column": "isbn", "type": "text"},
       {"op": "add_index", "table": "{book}", "columns": ["isbn"], "name": "{book}_isbn_idx"},
       {"op": "drop_index", "name": "{title_idx}"}]


def write(root: Path, files: dict) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    return root


def columns(url: str) -> dict:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                            "WHERE table_schema = 'public'").fetchall()
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    found: dict = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    return {"columns": found, "indexes": indexes}


def served_from_cache(project: Path, tool: str, monkeypatch) -> tuple:
    """A second read, with the tool's runner made to fail: only the cache can answer it."""
    def refuse(self, job):
        raise AssertionError("the tool ran again")

    with monkeypatch.context() as patch:
        patch.setattr(type(RUNNERS[tool]), "run", refuse)
        return tools.current_schema(str(project))


# --- the projects ----------------------------------------------------------------------------------


DJANGO_0001 = """
    import django.db.models.deletion
    from django.db import migrations, models


    class Migration(migrations.Migration):
        initial = True
        dependencies = []
        operations = [
            migrations.CreateModel(name="Author", fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
            ]),
            migrations.CreateModel(name="Book", fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("title", models.CharField(max_length=200)),
                ("author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.author")),
            ], options={"indexes": [models.Index(fields=["title"], name="library_book_title_idx")]}),
        ]
    """

DJANGO_0002 = """
    from django.db import migrations, models


    class Migration(migrations.Migration):
        dependencies = [("library", "0001_initial")]
        operations = [migrations.AddField(model_name="book", name="pages", field=models.IntegerField(null=True))]
    """

# The application's own database settings: its own variables, localhost when they are unset.
ACME_DATABASES = """
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("ACME_DB_NAME", "acme"),
        "USER": os.environ.get("ACME_DB_USER", "acme"),
        "PASSWORD": os.environ.get("ACME_DB_PASSWORD", ""),
        "HOST": os.environ.get("ACME_DB_HOST", "localhost"),
        "PORT": os.environ.get("ACME_DB_PORT", "5432"),
    }}
    """


def django_project(root: Path, databases: str = ACME_DATABASES, head: str = "", more: dict | None = None) -> Path:
    settings = "import os\n" + textwrap.dedent(head) + textwrap.dedent(databases) + \
        "SECRET_KEY = 'flux-test'\nINSTALLED_APPS = ['library']\nUSE_TZ = True\n"
    return write(root, {"manage.py": MANAGE, "acme/__init__.py": "", "acme/settings.py": settings,
                        "library/__init__.py": "", "library/migrations/__init__.py": "",
                        "library/migrations/0001_initial.py": DJANGO_0001,
                        "library/migrations/0002_book_pages.py": DJANGO_0002, **(more or {})})


ALEMBIC_INI = """
    [alembic]
    script_location = %(here)s/alembic
    prepend_sys_path = .
    sqlalchemy.url = postgresql://acme@db.acme.invalid/acme
    """

# Online only, and the URL from a variable of the application's own that Flux cannot know.
ONLINE_ONLY_ENV = """
    import os

    from alembic import context
    from sqlalchemy import create_engine

    if context.is_offline_mode():
        raise RuntimeError("acme migrations run online only")

    engine = create_engine({url})
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    """

CONVENTIONAL_ENV = """
    from alembic import context
    from sqlalchemy import engine_from_config, pool

    config = context.config

    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                    poolclass=pool.NullPool)
        with engine.connect() as connection:
            context.configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    """

REV_1 = """
    \"\"\"authors and books\"\"\"
    import sqlalchemy as sa
    from alembic import op

    revision = "a1b2c3d4e5f6"
    down_revision = None


    def upgrade():
        op.create_table("authors", sa.Column("id", sa.BigInteger, primary_key=True),
                        sa.Column("name", sa.Text, nullable=False))
        op.create_table("books", sa.Column("id", sa.BigInteger, primary_key=True),
                        sa.Column("title", sa.Text, nullable=False),
                        sa.Column("author_id", sa.BigInteger, sa.ForeignKey("authors.id"), nullable=False))
        op.create_index("books_title_idx", "books", ["title"])


    def downgrade():
        op.drop_table("books")
        op.drop_table("authors")
    """

REV_2 = """
    \"\"\"books.pages\"\"\"
    import sqlalchemy as sa
    from alembic import op

    revision = "b2c3d4e5f6a7"
    down_revision = "a1b2c3d4e5f6"


    def upgrade():
        op.add_column("books", sa.Column("pages", sa.Integer))


    def downgrade():
        op.drop_column("books", "pages")
    """


def third_revision(column: str) -> str:
    """A revision after REV_2 adding `column` to books."""
    return REV_2.replace('"b2c3d4e5f6a7"', '"c3d4e5f6a7b8"').replace('"a1b2c3d4e5f6"', '"b2c3d4e5f6a7"') \
        .replace('"pages"', f'"{column}"')


def alembic_project(root: Path, env: str, url: str = 'os.environ["ACME_DB_URI"]') -> Path:
    return write(root, {"alembic.ini": ALEMBIC_INI, "alembic/env.py": env.replace("{url}", url),
                        "alembic/versions/a1b2c3d4e5f6_authors_and_books.py": REV_1,
                        "alembic/versions/b2c3d4e5f6a7_books_pages.py": REV_2})


@pytest.fixture
def prod():
    """Another database on the dev server ("production"): a table in it, and nothing else."""
    server = dev_server()
    name = f"prod_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name)))
    url = server.database_url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id bigint PRIMARY KEY, email text)")
    yield url
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(psql.SQL("DROP DATABASE {} WITH (FORCE)").format(psql.Identifier(name)))


def untouched(url: str) -> bool:
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute("SELECT relname FROM pg_class c JOIN pg_namespace n "
                                             "ON n.oid = c.relnamespace WHERE nspname = 'public' AND relkind = 'r'")]
    return tables == ["customers"]


# --- 1. read with no database URL, then from the cache ------------------------------------------------------


def test_django_project_is_read_by_its_own_migrate(tmp_path, monkeypatch):
    project = django_project(tmp_path / "dj")
    schema, notes = tools.current_schema(str(project))
    assert notes == []
    assert {t.name: {c.name for c in t.columns} for t in schema.tables if t.name in BOOKS} == BOOKS
    book = schema.table("library_book")
    fk = next(c for c in book.constraints if c.kind == "foreign_key")
    assert (fk.columns, fk.ref_table, fk.ref_columns) == (["author_id"], "library_author", ["id"])
    assert "library_book_title_idx" in {i.name for i in book.indexes}
    assert schema.table("django_migrations") is None and schema.dependencies is not None  # the tool's own table
    assert served_from_cache(project, "django", monkeypatch) == (schema, notes)
    # What keys the cache: manage.py, the settings module and every app's migrations.
    assert RUNNERS["django"].inputs(project, "library/migrations") == sorted(
        [project / "manage.py", project / "acme" / "settings.py"] + list(project.glob("library/migrations/*.py")))


def test_django_project_on_sqlite_is_read_on_postgresql_without_sqlites_options(tmp_path):
    """healthchecks' default database is SQLite with OPTIONS init_command (PostgreSQL only when DB=
    postgres): its migrations run on the dev database, with a note, and SQLite's options are not
    handed to PostgreSQL's driver (psycopg refused init_command)."""
    sqlite = """
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "hc.sqlite",
                             "OPTIONS": {"init_command": "PRAGMA journal_mode=wal", "transaction_mode": "IMMEDIATE"}}}
    """
    schema, notes = tools.current_schema(str(django_project(tmp_path / "dj", databases=sqlite)))
    assert {t.name: {c.name for c in t.columns} for t in schema.tables if t.name in BOOKS} == BOOKS
    assert notes == ["the project's default database is sqlite3, not PostgreSQL; its migrations were run on PostgreSQL"]


@pytest.mark.parametrize("env", ["online-only", "conventional"])
def test_alembic_project_is_read_by_its_own_env(tmp_path, monkeypatch, env):
    project = alembic_project(tmp_path / env, ONLINE_ONLY_ENV if env == "online-only" else CONVENTIONAL_ENV)
    schema, notes = tools.current_schema(str(project))
    assert {c.name for c in schema.table("books").columns} == {"id", "title", "author_id", "pages"}
    assert "books_title_idx" in {i.name for i in schema.table("books").indexes}
    assert schema.table("books").constraints and schema.dependencies is not None
    if env == "online-only":  # env.py reads ACME_DB_URI, which Flux cannot know: alembic ran without it
        assert len(notes) == 1 and "env.py could not be used (KeyError: 'ACME_DB_URI')" in notes[0]
    else:
        assert notes == []
    assert served_from_cache(project, "alembic", monkeypatch) == (schema, notes)
    # What keys the cache: the configuration, env.py and every revision.
    assert RUNNERS["alembic"].inputs(project, "alembic/versions") == sorted(
        [project / "alembic.ini", project / "alembic" / "env.py"] + list(project.glob("alembic/versions/*.py")))


def test_alembic_script_location_as_a_package_resource(tmp_path):
    """prefect's alembic.ini says `script_location = prefect:server:database:_migrations`: a folder
    of an importable package (alembic reads it with importlib.resources). Detection looked for
    alembic/versions beside the ini, and the dev database refused it as not a folder."""
    ini = ALEMBIC_INI.replace("script_location = %(here)s/alembic", "script_location = acme:db:migrations") \
        .replace("prepend_sys_path = .", "prepend_sys_path = src")
    project = write(tmp_path / "pkg", {
        "alembic.ini": ini, "src/acme/__init__.py": "", "src/acme/db/__init__.py": "",
        "src/acme/db/migrations/env.py": CONVENTIONAL_ENV,
        "src/acme/db/migrations/versions/a1b2c3d4e5f6_authors_and_books.py": REV_1,
        "src/acme/db/migrations/versions/b2c3d4e5f6a7_books_pages.py": REV_2})
    found = tools.detect_tooling(str(project))
    assert (found.tool, found.migrations_dir) == ("alembic", "src/acme/db/migrations/versions")
    schema, notes = tools.current_schema(str(project))
    assert {c.name for c in schema.table("books").columns} == {"id", "title", "author_id", "pages"} and notes == []


def test_alembic_ini_with_named_sections_only(tmp_path):
    """dispatch's alembic.ini has no [alembic] section: one per database, [core] and [tenant], run as
    `alembic -n tenant`; and modules of its own beside it named as Python's (its types.py; json.py here,
    which no interpreter has loaded at start). The section whose scripts hold the most revisions builds
    the dev database (its env.py given that section), and the project's module does not take the
    place of Python's (`python -c` searched the ini's folder first)."""
    ini = ALEMBIC_INI.replace("[alembic]\n    script_location = %(here)s/alembic", "[core]\n    script_location = "
                              "%(here)s/core\n\n    [tenant]\n    script_location = %(here)s/tenant")
    assert "[tenant]" in ini and "[alembic]" not in ini
    one_env = CONVENTIONAL_ENV.replace("config.get_section(config.config_ini_section, {})",
                                       "{'sqlalchemy.url': config.get_main_option('sqlalchemy.url')}")
    project = write(tmp_path / "dispatchlike", {
        "alembic.ini": ini, "json.py": "raise ImportError('the project json.py was imported as json')\n",
        "core/env.py": one_env, "core/versions/a1b2c3d4e5f6_authors_and_books.py": REV_1,
        "tenant/env.py": one_env, "tenant/versions/a1b2c3d4e5f6_authors_and_books.py": REV_1,
        "tenant/versions/b2c3d4e5f6a7_books_pages.py": REV_2})
    found = tools.detect_tooling(str(project))
    assert (found.tool, found.migrations_dir) == ("alembic", "tenant/versions")
    schema, notes = tools.current_schema(str(project))
    assert {c.name for c in schema.table("books").columns} == {"id", "title", "author_id", "pages"} and notes == []


def flask_migrate_project(root: Path) -> Path:
    """Flask-Migrate's layout: migrations/alembic.ini with no script_location (its Migrate() gives alembic
    the folder), env.py and versions/ beside it."""
    ini = ALEMBIC_INI.replace("script_location = %(here)s/alembic\n    ", "")
    assert "script_location" not in ini
    return write(root, {"migrations/alembic.ini": ini, "migrations/env.py": CONVENTIONAL_ENV,
                        "migrations/versions/a1b2c3d4e5f6_authors_and_books.py": REV_1,
                        "migrations/versions/b2c3d4e5f6a7_books_pages.py": REV_2})


def test_flask_migrate_ini_without_a_script_location(tmp_path):
    """redash: `No 'script_location' key found in configuration` stopped flux schema, verify and fix."""
    project = flask_migrate_project(tmp_path / "flaskapp")
    assert tools.detect_tooling(str(project)).migrations_dir == "migrations/versions"
    schema, notes = tools.current_schema(str(project))
    assert {c.name for c in schema.table("books").columns} == {"id", "title", "author_id", "pages"} and notes == []


def test_flask_migrate_revisions_import_the_app_from_the_project_root(tmp_path):
    """redash's revisions import its app (`from redash import models`), which `flask db upgrade`, run
    from the project root, finds there: the dev database's build ran alembic in migrations/ and
    said the app's module did not import."""
    project = flask_migrate_project(tmp_path / "flaskapp")
    write(project, {"myapp/__init__.py": "NAME_LEN = 80\n"})
    rev = project / "migrations" / "versions" / "b2c3d4e5f6a7_books_pages.py"
    rev.write_text("from myapp import NAME_LEN  # noqa: F401 (the app's own module)\n" + rev.read_text())
    schema, notes = tools.current_schema(str(project))
    assert {c.name for c in schema.table("books").columns} == {"id", "title", "author_id", "pages"} and notes == []


@pytest.mark.slow
def test_a_project_on_sqlalchemy_1_3_is_read(tmp_path):
    """redash pins SQLAlchemy 1.3.24, which has no URL.create: every read failed in Flux's own code
    (`module 'sqlalchemy.engine' has no attribute 'URL'`), said as the project's migrations' fault."""
    project = flask_migrate_project(tmp_path / "old")
    venv = project / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "sqlalchemy==1.3.24", "alembic==1.7.7",
                           "psycopg2-binary"], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.skip(f"SQLAlchemy 1.3 does not install here: {done.stderr.strip().splitlines()[-1:]}")
    schema, notes = tools.current_schema(str(project))
    assert {c.name for c in schema.table("books").columns} == {"id", "title", "author_id", "pages"} and notes == []


# --- 2. plans written on that schema run up, down, up by the real tool -----------------------------------


def run(cwd: Path, env: dict, *args: str) -> None:
    done = subprocess.run([sys.executable, *args], check=False, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def plan_and_write(project: Path, book: str, title_idx: str) -> list[str]:
    ops = [{k: (v.format(book=book, title_idx=title_idx) if isinstance(v, str) else v) for k, v in op.items()}
           for op in OPS]
    plan = tools.plan_migration(ops, str(project))
    outcome = tools.write_migration(plan, str(project))
    assert outcome.files and all((project / f).is_file() for f in outcome.files)
    # Read again, the written files run by the tool on the dev database (CREATE INDEX CONCURRENTLY outside a
    # transaction): the planned schema.
    planned = tools.current_schema(str(project))[0].table(book)
    assert planned.column("isbn") is not None
    indexes = {i.name for i in planned.indexes}
    assert f"{book}_isbn_idx" in indexes and title_idx not in indexes
    return outcome.files


@pytest.mark.slow
def test_django_plan_runs_up_down_up(tmp_path, pg_url, monkeypatch):
    project = django_project(tmp_path / "dj")
    written = plan_and_write(project, "library_book", "library_book_title_idx")
    assert all(f.startswith("library/migrations/000") for f in written)
    info = psycopg.conninfo.conninfo_to_dict(pg_url)
    env = {**os.environ, "ACME_DB_NAME": info["dbname"], "ACME_DB_USER": info.get("user", ""),
           "ACME_DB_PASSWORD": info.get("password", ""), "ACME_DB_HOST": info.get("host", ""),
           "ACME_DB_PORT": str(info.get("port", "5432"))}
    run(project, env, "manage.py", "migrate", "library")
    forward = columns(pg_url)
    assert forward["columns"]["library_book"] == BOOKS["library_book"] | {"isbn"}
    assert "library_book_isbn_idx" in forward["indexes"] and "library_book_title_idx" not in forward["indexes"]
    run(project, env, "manage.py", "migrate", "library", "0002")
    back = columns(pg_url)
    assert back["columns"]["library_book"] == BOOKS["library_book"]
    assert "library_book_title_idx" in back["indexes"] and "library_book_isbn_idx" not in back["indexes"]
    run(project, env, "manage.py", "migrate", "library")
    assert columns(pg_url) == forward


@pytest.mark.slow
def test_alembic_online_only_plan_runs_up_down_up(tmp_path, pg_url):
    project = alembic_project(tmp_path / "al", ONLINE_ONLY_ENV)
    written = plan_and_write(project, "books", "books_title_idx")
    # the revisions, and env.py given a transaction per revision (write/tools/_alembic_env.py)
    assert all(f.startswith("alembic/versions/") or f == "alembic/env.py" for f in written)
    import sqlalchemy as sa

    info = psycopg.conninfo.conninfo_to_dict(pg_url)
    url = sa.engine.URL.create("postgresql+psycopg2", username=info.get("user"), password=info.get("password"),
                               port=int(info["port"]) if info.get("port") else None, database=info["dbname"],
                               query={"host": info["host"]} if info.get("host") else {})
    env = {**os.environ, "ACME_DB_URI": url.render_as_string(hide_password=False)}
    run(project, env, "-m", "alembic", "upgrade", "head")
    forward = columns(pg_url)
    assert forward["columns"]["books"] == {"id", "title", "author_id", "pages", "isbn"}
    assert "books_isbn_idx" in forward["indexes"] and "books_title_idx" not in forward["indexes"]
    run(project, env, "-m", "alembic", "downgrade", "b2c3d4e5f6a7")
    back = columns(pg_url)
    assert back["columns"]["books"] == {"id", "title", "author_id", "pages"}
    assert "books_title_idx" in back["indexes"] and "books_isbn_idx" not in back["indexes"]
    run(project, env, "-m", "alembic", "upgrade", "head")
    assert columns(pg_url) == forward


# --- 3. safety: nothing runs anywhere but the dev database ------------------------------------------------


def test_django_settings_naming_prod_leave_prod_untouched(tmp_path, prod):
    info = psycopg.conninfo.conninfo_to_dict(prod)
    hard_coded = f"""
        DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": {info['dbname']!r},
                                  "USER": {info['user']!r}, "HOST": {info['host']!r}}}}}
        """
    project = django_project(tmp_path / "dj", hard_coded)
    schema, _ = tools.current_schema(str(project))
    assert schema.table("library_book") is not None and schema.table("customers") is None
    assert untouched(prod)


def test_django_migration_connecting_to_prod_is_stopped(tmp_path, prod):
    sneaky = f"""
        import psycopg
        from django.db import migrations


        def copy_out(apps, schema_editor):
            with psycopg.connect({prod!r}, autocommit=True) as conn:
                conn.execute("CREATE TABLE stolen (id bigint)")


        class Migration(migrations.Migration):
            dependencies = [("library", "0002_book_pages")]
            operations = [migrations.RunPython(copy_out)]
        """
    project = django_project(tmp_path / "dj", more={"library/migrations/0003_copy_out.py": sneaky})
    with pytest.raises(FluxInputError) as err:
        tools.current_schema(str(project))
    message = str(err.value)
    name = psycopg.conninfo.conninfo_to_dict(prod)["dbname"]
    assert message.startswith(f"stopped the project's Django migrations: its code connected to database '{name}'")
    assert "before running anything there" in message and "--database-url" in message
    assert untouched(prod)


def test_alembic_env_with_a_prod_engine_is_stopped(tmp_path, prod):
    import sqlalchemy as sa

    info = psycopg.conninfo.conninfo_to_dict(prod)
    url = sa.engine.URL.create("postgresql+psycopg2", username=info["user"], database=info["dbname"],
                               query={"host": info["host"]}).render_as_string()
    project = alembic_project(tmp_path / "al", ONLINE_ONLY_ENV, repr(url))
    with pytest.raises(FluxInputError, match=rf"Alembic migrations: its code connected to database "
                                             rf"'{info['dbname']}' .* before running anything there"):
        tools.current_schema(str(project))
    assert untouched(prod)


# --- 4. what is missing, and what fails, in one line ------------------------------------------------------


def test_django_settings_needing_a_missing_package_is_one_line(tmp_path):
    project = django_project(tmp_path / "dj", head="import acme_vault_client_not_installed\n")
    with pytest.raises(FluxInputError) as err:
        tools.current_schema(str(project))
    assert re.fullmatch(r"cannot run the project's Django migrations with \S*python\S*: the settings module "
                        r"acme.settings cannot be imported \(ModuleNotFoundError: No module named "
                        r"'acme_vault_client_not_installed'\); install the project's dependencies .*--database-url",
                        str(err.value))


def test_django_settings_reading_the_environment_get_it_but_no_database_setting(tmp_path, monkeypatch):
    """plane's settings read REDIS_URL (and many read SECRET_KEY) from the environment: Flux passes
    on its own environment, database settings taken out; without the variable, the one line says
    what to do about the settings, not the migrations."""
    head = ("CACHE_HOST = os.environ['ACME_CACHE_URL'].split('://')[1]\n"
            "assert 'ACME_DB_HOST' not in os.environ and 'LEGACY' not in os.environ\n")
    project = django_project(tmp_path / "dj", head=head)
    monkeypatch.setenv("ACME_DB_HOST", "prod.example.com")
    monkeypatch.setenv("LEGACY", "postgres://prod.example.com/acme")
    with pytest.raises(FluxInputError) as err:
        tools.current_schema(str(project))
    assert re.fullmatch(r"the project's Django settings failed to load: the settings module acme.settings raised "
                        r"\(KeyError: 'ACME_CACHE_URL'\); a setting they read from the environment may be missing "
                        r".*: set it where Flux runs, or give --database-url", str(err.value)), str(err.value)
    monkeypatch.setenv("ACME_CACHE_URL", "redis://localhost:6379")
    schema, _ = tools.current_schema(str(project))
    assert schema.table("library_book") is not None


def test_django_without_django_installed_is_one_line(tmp_path):
    project = django_project(tmp_path / "dj", head="# read with an interpreter without Django\n")  # not cached
    venv = project / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(Path(sys.base_prefix) / "bin" / "python3")  # no site-packages of ours
    with pytest.raises(FluxInputError, match=r"with .*\.venv/bin/python: Django is not importable "
                                             r"\(ModuleNotFoundError: No module named 'django'\); install"):
        tools.current_schema(str(project))


def test_failing_django_migration_is_one_line_naming_it(tmp_path):
    bad = """
        from django.db import migrations


        class Migration(migrations.Migration):
            dependencies = [("library", "0002_book_pages")]
            operations = [migrations.RunSQL("ALTER TABLE library_book ADD COLUMN pages integer")]
        """
    project = django_project(tmp_path / "dj", more={"library/migrations/0003_again.py": bad})
    with pytest.raises(FluxInputError, match=r"migrations failed on the dev database: migration library.0003_again "
                                             r"failed: ProgrammingError: column \"pages\" of relation \"library_book\" "
                                             r"already exists; fix the migration"):
        tools.current_schema(str(project))


def test_failing_alembic_revision_is_one_line_naming_it(tmp_path):
    project = alembic_project(tmp_path / "al", CONVENTIONAL_ENV)
    write(project, {"alembic/versions/c3d4e5f6a7b8_again.py": third_revision("pages")})
    with pytest.raises(FluxInputError, match=r"revision alembic/versions/c3d4e5f6a7b8_again.py:\d+ failed: "
                                             r"ProgrammingError: .*column \"pages\" of relation \"books\" already"):
        tools.current_schema(str(project))


def test_alembic_without_its_ini_is_one_line(tmp_path):
    project = alembic_project(tmp_path / "al", CONVENTIONAL_ENV)
    (project / "alembic.ini").unlink()
    with pytest.raises(FluxInputError, match=r"no alembic.ini .* give --database-url"):
        tools.current_schema(str(project), tool="alembic")


# --- a data migration failing without a database error ---------------------------------------------------------

def went_past(project: Path, half: str, fill: str, missing: str) -> None:
    """The project's schema holds what `half` sent before it failed and what the migration after it
    made, and the notes say that `half` failed part-way and `fill` (importing `missing`) was left out."""
    schema, notes = tools.current_schema(str(project))
    assert schema.table("half_done") is not None and schema.table("after_them") is not None
    assert notes == [
        f"{half} failed part-way without a database error and the tool went on "
        "(RuntimeError: the app is not built); the 1 statement it ran before that stand",
        "left out 1 migration that failed before sending any query, so the schema is the same without it: "
        f"{fill} (ModuleNotFoundError: No module named '{missing}')"], notes


def django_step(name: str, after: str, body: str) -> str:
    """A Django migration after `after` whose RunPython runs `body` (given the schema editor as `editor`)."""
    return textwrap.dedent(f"""
        from django.db import migrations


        def forwards(apps, editor):
            {body}


        class Migration(migrations.Migration):
            dependencies = [("library", "{after}")]
            operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
        """)


def test_django_data_migrations_failing_without_a_database_error_are_gone_past_with_a_note(tmp_path):
    """plane's data migrations import the app's tasks and read its settings: where that fails
    without a database error, migrate goes on (as the Node tools' runs do), and says so; the
    statements a part-way one sent stand, and the migrations after both still run."""
    later = """
        from django.db import migrations


        class Migration(migrations.Migration):
            dependencies = [("library", "0004_half_done")]
            operations = [migrations.RunSQL("CREATE TABLE after_them (id int)")]
        """
    project = django_project(tmp_path / "dj", more={
        "library/migrations/0003_fill_titles.py": django_step(
            "0003_fill_titles", "0002_book_pages", "from acme.tasks import fill_titles  # not in this checkout"),
        "library/migrations/0004_half_done.py": django_step(
            "0004_half_done", "0003_fill_titles",
            "editor.execute('CREATE TABLE half_done (id int)'); raise RuntimeError('the app is not built')"),
        "library/migrations/0005_after_them.py": later})
    went_past(project, "library.0004_half_done", "library.0003_fill_titles", "acme.tasks")


def test_a_django_data_migration_failing_on_the_database_still_stops_naming_it(tmp_path):
    project = django_project(tmp_path / "dj", more={"library/migrations/0003_bad_update.py": django_step(
        "0003_bad_update", "0002_book_pages", "editor.execute('UPDATE library_book SET nowhere = 1')")})
    with pytest.raises(FluxInputError, match=r"migration library.0003_bad_update failed: ProgrammingError: column "
                                             r"\"nowhere\" of relation \"library_book\" does not exist"):
        tools.current_schema(str(project))


def alembic_step(revision: str, down: str, body: str) -> str:
    return textwrap.dedent(f"""
        from alembic import op

        revision = "{revision}"
        down_revision = "{down}"


        def upgrade():
            {body}


        def downgrade():
            pass
        """)


def test_alembic_revisions_failing_without_a_database_error_are_gone_past_with_a_note(tmp_path):
    project = alembic_project(tmp_path / "al", CONVENTIONAL_ENV)
    write(project, {
        "alembic/versions/c3d4e5f6a7b8_fill.py": alembic_step(
            "c3d4e5f6a7b8", "b2c3d4e5f6a7", "from acme.tasks import fill_titles  # not in this checkout"),
        "alembic/versions/d4e5f6a7b8c9_half.py": alembic_step(
            "d4e5f6a7b8c9", "c3d4e5f6a7b8",
            "op.execute('CREATE TABLE half_done (id int)'); raise RuntimeError('the app is not built')"),
        "alembic/versions/e5f6a7b8c9d0_after.py": alembic_step(
            "e5f6a7b8c9d0", "d4e5f6a7b8c9", "op.execute('CREATE TABLE after_them (id int)')")})
    went_past(project, "alembic/versions/d4e5f6a7b8c9_half.py", "alembic/versions/c3d4e5f6a7b8_fill.py", "acme")


# A settings class's URL check (pydantic's PostgresDsn wants a host): full-stack-fastapi-template
# checks DATABASE_URL so; mealie builds the URL from POSTGRES_SERVER and POSTGRES_PORT.
CHECKED_URL_ENV = """
    import os

    from alembic import context
    from pydantic import PostgresDsn, TypeAdapter
    from sqlalchemy import create_engine, pool

    checked = TypeAdapter(PostgresDsn).validate_python(os.environ["DATABASE_URL"])
    built = PostgresDsn.build(scheme="postgresql+psycopg", username=os.environ["POSTGRES_USER"],
                              password=os.environ["POSTGRES_PASSWORD"], host=os.environ["POSTGRES_SERVER"],
                              port=int(os.environ["POSTGRES_PORT"]), path=os.environ["POSTGRES_DB"])
    assert checked.hosts()[0]["port"] == built.hosts()[0]["port"]
    engine = create_engine(str(built), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    """


def test_alembic_env_checking_its_url_as_a_settings_class_does_is_used(tmp_path):
    """Given the dev database by its socket folder, such an env.py failed (ValidationError) and the
    revisions ran without it, with a note; by 127.0.0.1 and a port it runs as the project's own."""
    project = alembic_project(tmp_path / "checked", CHECKED_URL_ENV)
    schema, notes = tools.current_schema(str(project))
    assert notes == []
    assert {c.name for c in schema.table("books").columns} == {"id", "title", "author_id", "pages"}


def test_alembic_failure_after_a_revision_gone_past_names_it(tmp_path):
    """mealie: the first revision failed importing a driver (no query sent), was gone past, and the next
    failed on its missing table; the message named only the second, the first being the cause."""
    project = alembic_project(tmp_path / "al", CONVENTIONAL_ENV)
    write(project, {
        "alembic/versions/c3d4e5f6a7b8_fill.py": alembic_step(
            "c3d4e5f6a7b8", "b2c3d4e5f6a7", "import acme_driver  # not installed\n"
                                            "            op.execute('CREATE TABLE recipes (id int)')"),
        "alembic/versions/d4e5f6a7b8c9_use.py": alembic_step(
            "d4e5f6a7b8c9", "c3d4e5f6a7b8", "op.execute('ALTER TABLE recipes ADD COLUMN n int')")})
    with pytest.raises(FluxInputError) as err:
        tools.current_schema(str(project))
    message = str(err.value)
    assert "d4e5f6a7b8c9_use.py" in message and 'relation "recipes" does not exist' in message
    assert "left out 1 migration" in message and "c3d4e5f6a7b8_fill.py" in message and "acme_driver" in message


def test_a_failure_in_flux_s_own_runner_code_is_flux_s_not_the_project_s(tmp_path):
    """redash: Flux's runner called URL.create, which SQLAlchemy 1.3 lacks, and the one line said the
    project's migrations failed ("fix the migration"). Raised in Flux's runner code, it is Flux's
    failure; raised in the code that runner calls (the project's, its tool's), the project's."""
    import secrets

    from flux_agent.devdb import program
    from flux_agent.devdb.runners import _python
    from flux_agent.errors import FluxInternalError

    project = write(tmp_path, {"acme_env.py": "def configure():\n    raise RuntimeError('no DATABASE_URL')\n"})
    runner = project / "runner.py"
    job = program.tool_run(project, "", "postgresql://nowhere.invalid/x", secrets.token_hex(16))
    runner.write_text("def child(config, check, tolerated):\n    return {}.missing\n")
    ours = _python.run_child(job, "alembic", sys.executable, project, {"module": str(runner)})
    assert ours["status"] == "internal"
    with pytest.raises(FluxInternalError, match="Flux's Alembic runner failed in the project's Python"):
        _python.outcome(ours, "Alembic")
    runner.write_text("def child(config, check, tolerated):\n    import acme_env\n    acme_env.configure()\n")
    theirs = _python.run_child(job, "alembic", sys.executable, project, {"module": str(runner)})
    assert theirs["status"] == "failed"
    with pytest.raises(FluxInputError, match="the project's Alembic migrations failed.*no DATABASE_URL"):
        _python.outcome(theirs, "Alembic")
