"""Issue 23, `flux fix` on program-code migrations: Alembic revisions and Knex migrations, each
holding one unsafe change in the tool's own API (and a Django migration mixing safe and unsafe
operations, replaced and run by manage.py migrate up, down, up), read back into SQL by validate's readers, turned
into the same typed operation as its SQL twin (test_fix_sql.CASES) and planned exactly as
`flux plan --op` plans it in that project; the files --write puts in its place (the tool's own
format, chained where the tool chains: alembic's down_revision skips the replaced revision) pass
`flux validate`, and Alembic itself runs them upgrade, downgrade to the history, upgrade (the
catalog back where it was, then as forward). The same plans as SQL files run forward, back and
forward on PostgreSQL in test_fix_sql."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flux_agent.devdb.server import find_binaries
from flux_agent.entry.actions import continue_migration
from flux_agent.entry.fix import fix_file
from flux_agent.write.tools.alembic import current_head, read_revisions
from tests.integration.entry.test_fix_sql import CASES, INIT_DOWN, INIT_SQL, KINDS, flux, plan_op, steps, write

pytest.importorskip("pglast")
pytestmark = [pytest.mark.pg, pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries")]


def validate_errors(out: str) -> set[str]:
    return {f["rule"] for f in json.loads(out) if f["severity"] == "error"}


# --- Alembic ---------------------------------------------------------------------------------------------

ALEMBIC_INI = """
    [alembic]
    script_location = %(here)s/alembic
    prepend_sys_path = .
    sqlalchemy.url = postgresql://acme@db.acme.invalid/acme
    """

ALEMBIC_ENV = """
    import os

    from alembic import context
    from sqlalchemy import engine_from_config, pool

    config = context.config
    if os.environ.get("ACME_DB_URI"):  # the test's database, when the test runs alembic itself
        config.set_main_option("sqlalchemy.url", os.environ["ACME_DB_URI"].replace("%", "%%"))

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

REVISION = '''"""{doc}"""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down}


def upgrade():
    {up}


def downgrade():
    {down_body}
'''

ALEMBIC = {
    "rename_column": "op.alter_column('users', 'name', new_column_name='full_name')",
    "add_index": "op.create_index('orders_user_id_idx', 'orders', ['user_id'])",
    "add_column": ("op.add_column('users', sa.Column('token', sa.Uuid(), nullable=False, "
                   "server_default=sa.text('gen_random_uuid()')))"),
    "change_column_type": "op.alter_column('orders', 'total', type_=sa.BigInteger())",
    "set_not_null": "op.alter_column('orders', 'status', nullable=False)",
    "add_foreign_key": "op.create_foreign_key('orders_user_id_fkey', 'orders', 'users', ['user_id'], ['id'])",
    "add_check": "op.create_check_constraint('orders_total_check', 'orders', 'total >= 0')",
    "add_unique": "op.create_unique_constraint('users_email_key', 'users', ['email'])",
    "backfill": "op.execute('UPDATE users SET nick = lower(email)')",
    "drop_column": "op.drop_column('users', 'age')",
    "drop_table": "op.drop_table('legacy')",
    "drop_index": "op.drop_index('orders_status_idx', table_name='orders')",
    "rename_table": "op.rename_table('legacy', 'archive')",
}
ALEMBIC_FIX = "alembic/versions/b2c3d4e5f6a7_change.py"


def alembic_project(root: Path) -> Path:
    init = REVISION.format(doc="history", rev="a1b2c3d4e5f6", down="None", up=f"op.execute('''{INIT_SQL}''')",
                           down_body=f"op.execute('''{INIT_DOWN}''')")
    write(root, {"alembic.ini": ALEMBIC_INI, "alembic/env.py": ALEMBIC_ENV})
    (root / "alembic/versions").mkdir()
    (root / "alembic/versions/a1b2c3d4e5f6_history.py").write_text(init)
    return root


@pytest.mark.parametrize("kind", KINDS)
def test_alembic_revision_is_planned_as_plan_op_and_replaced_by_a_chain_that_validates(kind, tmp_path, capsys):
    pytest.importorskip("alembic")
    project = alembic_project(tmp_path / "app")
    expected = plan_op(capsys, project, CASES[kind][1])
    (project / ALEMBIC_FIX).write_text(REVISION.format(doc=kind, rev="b2c3d4e5f6a7", down='"a1b2c3d4e5f6"',
                                                       up=ALEMBIC[kind], down_body="pass"))
    code, out, err = flux(capsys, "fix", "--project", str(project), ALEMBIC_FIX, "--json")
    assert code == 0, err
    fixed = json.loads(out)
    assert fixed["tool"] == "alembic" and fixed["operations"] == expected["operations"]
    assert steps(fixed) == steps(expected)

    code, out, err = flux(capsys, "fix", "--project", str(project), ALEMBIC_FIX, "--write")
    assert code == 0, err
    assert not (project / ALEMBIC_FIX).exists()
    written = sorted(p for p in (project / "alembic/versions").glob("*.py") if not p.name.startswith("a1b2"))
    # One chain from the history through Flux's revisions, none pointing at the replaced one.
    revisions = read_revisions(project / "alembic/versions")
    assert current_head(revisions) and all(d in revisions for downs in revisions.values() for d in downs)
    assert "b2c3d4e5f6a7" not in revisions and len(revisions) == 1 + len(written)
    assert bool(written) == (expected["steps"][0]["phase"] != "code")
    code, out, err = flux(capsys, "validate", "--project", str(project), "alembic/versions", "--json")
    assert validate_errors(out) == set(), out


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_alembic_runs_the_written_revisions_up_down_up(kind, tmp_path, pg_url):
    """The replaced revision's files run by alembic itself: upgrade, downgrade to the history, upgrade."""
    pytest.importorskip("alembic")
    import psycopg
    import sqlalchemy as sa

    from tests.integration.devdb.test_program_python import run

    project = alembic_project(tmp_path / "app")
    (project / ALEMBIC_FIX).write_text(REVISION.format(doc=kind, rev="b2c3d4e5f6a7", down='"a1b2c3d4e5f6"',
                                                       up=ALEMBIC[kind], down_body="pass"))
    left = bool(fix_file(ALEMBIC_FIX, str(project), write=True).record)
    while left:  # no application runs here: every deploy is out at once, so every step is written
        left = bool(continue_migration(str(project)).remaining_steps)
    info = psycopg.conninfo.conninfo_to_dict(pg_url)
    url = sa.engine.URL.create("postgresql+psycopg2", username=info.get("user"), password=info.get("password"),
                               port=int(info["port"]) if info.get("port") else None, database=info["dbname"],
                               query={"host": info["host"]} if info.get("host") else {})
    env = {**os.environ, "ACME_DB_URI": url.render_as_string(hide_password=False)}
    run(project, env, "-m", "alembic", "upgrade", "a1b2c3d4e5f6")
    before = catalog(pg_url)
    run(project, env, "-m", "alembic", "upgrade", "head")
    forward = catalog(pg_url)
    assert (forward == before) == (kind == "backfill")  # a backfill changes rows only
    run(project, env, "-m", "alembic", "downgrade", "a1b2c3d4e5f6")
    assert catalog(pg_url) == before
    run(project, env, "-m", "alembic", "upgrade", "head")
    assert catalog(pg_url) == forward


def catalog(url: str) -> set:
    import psycopg

    with psycopg.connect(url) as conn:
        return set(conn.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped").fetchall()) | set(conn.execute(
            "SELECT conname, contype::text, convalidated FROM pg_constraint c JOIN pg_namespace n "
            "ON n.oid = c.connamespace WHERE n.nspname = 'public'").fetchall())


# --- Knex --------------------------------------------------------------------------------------------------

def alter(table: str, body: str) -> str:
    return f"await knex.schema.alterTable('{table}', (t) => {{ {body}; }});"


KNEX = {
    "rename_column": alter("users", "t.renameColumn('name', 'full_name')"),
    "add_index": alter("orders", "t.index(['user_id'], 'orders_user_id_idx')"),
    "add_column": alter("users", "t.uuid('token').notNullable().defaultTo(knex.raw('gen_random_uuid()'))"),
    "change_column_type": alter("orders", "t.bigInteger('total').alter({ alterNullable: false })"),
    "set_not_null": alter("orders", "t.text('status').notNullable().alter({ alterType: false })"),
    "add_foreign_key": alter("orders", "t.foreign('user_id', 'orders_user_id_fkey').references('id').inTable('users')"),
    "add_check": alter("orders", "t.check('total >= 0', [], 'orders_total_check')"),
    "add_unique": alter("users", "t.unique(['email'], { indexName: 'users_email_key' })"),
    "backfill": "await knex.raw('UPDATE users SET nick = lower(email)');",
    "drop_column": alter("users", "t.dropColumn('age')"),
    "drop_table": "await knex.schema.dropTable('legacy');",
    "drop_index": alter("orders", "t.dropIndex([], 'orders_status_idx')"),
    "rename_table": "await knex.schema.renameTable('legacy', 'archive');",
}
KNEX_FIX = "migrations/20250102000000_change.js"
# Knex's .alter() redefines the column: it drops the default first (unsafe where there is one: the
# operation drop_default; a statement that does nothing where there is none: dropped) and casts with USING.
# USING total::bigint converts as no USING does (pg/types.plain_using): the operation carries none
KNEX_EXTRA = {"change_column_type": (["drop_default", "change_column_type"], {"using": None}),
              "set_not_null": (["set_not_null"], {})}


def knex_project(root: Path) -> Path:
    from tests.integration.devdb.test_program_node import make_project
    from js_tools import modules

    make_project("knex", root, "host=/nowhere dbname=none user=u", modules("knex"))
    for old in (root / "migrations").iterdir():
        old.unlink()
    write(root, {"migrations/20250101000000_init.js": f"""
        exports.up = async function (knex) {{
          await knex.raw(`{INIT_SQL}`);
        }};
        exports.down = async function (knex) {{
          await knex.raw(`{INIT_DOWN}`);
        }};
        """})
    return root


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.parametrize("kind", KINDS)
def test_knex_migration_is_planned_as_plan_op_and_replaced_by_files_that_validate(kind, tmp_path, capsys):
    project = knex_project(tmp_path / "app")
    expected = plan_op(capsys, project, CASES[kind][1])
    write(project, {KNEX_FIX: f"""
        exports.up = async function (knex) {{
          {KNEX[kind]}
        }};
        exports.down = async function () {{}};
        """})
    code, out, err = flux(capsys, "fix", "--project", str(project), KNEX_FIX, "--json")
    assert code == 0, err
    fixed = json.loads(out)
    if kind in KNEX_EXTRA:
        names, fields = KNEX_EXTRA[kind]
        assert [o["op"] for o in fixed["operations"]] == names
        assert fixed["operations"][-1] == {**expected["operations"][0], **fields}
        aside = project / "fix.js"  # the same operations planned by `flux plan --op` before the file
        (project / KNEX_FIX).rename(aside)
        expected = plan_op(capsys, project, fixed["operations"])
        aside.rename(project / KNEX_FIX)
    assert fixed["tool"] == "knex" and fixed["operations"] == expected["operations"]
    assert steps(fixed) == steps(expected)

    code, out, err = flux(capsys, "fix", "--project", str(project), KNEX_FIX, "--write")
    assert code == 0, err
    assert not (project / KNEX_FIX).exists()
    code, out, err = flux(capsys, "validate", "--project", str(project), "migrations", "--json")
    assert validate_errors(out) == set(), out


# --- Django ------------------------------------------------------------------------------------------------

DJANGO_FIX = "library/migrations/0003_rename_title.py"
DJANGO_CHANGE = '''
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("library", "0002_book_pages")]
    operations = [
        migrations.AddField(model_name="book", name="isbn", field=models.TextField(null=True)),
        migrations.RenameField(model_name="book", old_name="title", new_name="name"),
        migrations.AddIndex(model_name="book", index=models.Index(fields=["pages"], name="book_pages_idx")),
    ]
'''
DJANGO_OPS = [{"op": "rename_column", "table": "library_book", "column": "title", "new_name": "name"},
              {"op": "add_index", "table": "library_book", "columns": ["pages"], "name": "book_pages_idx"}]


@pytest.mark.slow
def test_django_migration_mixing_safe_and_unsafe_is_replaced_and_runs_up_down_up(tmp_path, capsys, pg_url):
    pytest.importorskip("django")
    import psycopg

    from tests.integration.devdb.test_program_python import django_project, run

    project = django_project(tmp_path / "dj")
    expected = plan_op(capsys, project, DJANGO_OPS)
    write(project, {DJANGO_FIX: DJANGO_CHANGE})
    code, out, err = flux(capsys, "fix", "--project", str(project), DJANGO_FIX, "--json")
    assert code == 0, err
    fixed = json.loads(out)
    assert [o["op"] for o in fixed["operations"]] == ["raw_sql", "rename_column", "add_index"]
    assert fixed["operations"][1:] == expected["operations"]
    assert steps(fixed)[-len(expected["steps"]):] == steps(expected)  # the kept AddField's step first

    result = fix_file(DJANGO_FIX, str(project), write=True)
    assert result.written and not (project / DJANGO_FIX).exists()
    first = (project / result.written[0]).read_text()
    assert "('library', '0002_book_pages')" in first.replace('"', "'") and "0003_rename_title" not in first  # black may requote
    code, out, err = flux(capsys, "validate", "--project", str(project), "library/migrations", "--json")
    assert validate_errors(out) == set(), out
    while continue_migration(str(project)).remaining_steps:  # every deploy is out: write every step
        pass
    info = psycopg.conninfo.conninfo_to_dict(pg_url)
    env = {**os.environ, "ACME_DB_NAME": info["dbname"], "ACME_DB_USER": info.get("user", ""),
           "ACME_DB_PASSWORD": info.get("password", ""), "ACME_DB_HOST": info.get("host", ""),
           "ACME_DB_PORT": str(info.get("port", "5432"))}
    run(project, env, "manage.py", "migrate", "library", "0002")
    before = catalog(pg_url)
    run(project, env, "manage.py", "migrate", "library")
    forward = catalog(pg_url)
    assert ("library_book", "name", "character varying(200)", True) in forward and forward != before
    run(project, env, "manage.py", "migrate", "library", "0002")
    assert catalog(pg_url) == before
    run(project, env, "manage.py", "migrate", "library")
    assert catalog(pg_url) == forward


# Models as DJANGO_0001 and DJANGO_0002 leave them, then indexed: makemigrations makes 0003 from them.
DJANGO_MODELS = '''
from django.db import models


class Author(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=200)


class Book(models.Model):
    id = models.BigAutoField(primary_key=True)
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    pages = models.IntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["title"], name="library_book_title_idx")]
'''
DJANGO_CHANGED = {
    # AlterField db_index=True, AddIndex named by Django's hash: all steps written at once
    "indexes": DJANGO_MODELS.replace("IntegerField(null=True)", "IntegerField(null=True, db_index=True)").replace(
        'name="library_book_title_idx")]', 'name="library_book_title_idx"), models.Index(fields=["pages", "title"])]'),
    # RemoveIndex, RenameField, AddIndex (DROP INDEX IF EXISTS): an expand and contract around a code deploy,
    # the steps after it written by `flux continue`
    "rename": DJANGO_MODELS.replace("    title = models.CharField", "    headline = models.CharField")
    .replace('fields=["title"]', 'fields=["headline"]'),
}


@pytest.mark.slow
@pytest.mark.parametrize("change", list(DJANGO_CHANGED))
def test_a_django_migration_made_from_the_models_keeps_their_state_when_fixed(tmp_path, capsys, pg_url, change):
    """paperless-ngx's 0022_add_perf_indexes (AlterField db_index=True, AddIndex of an index the
    models name by Django's hash): `flux fix --write` made the indexes concurrent and asked for model
    edits the models already held, and makemigrations then wrote the original's changes again. The
    last written migration now carries the original's operations as its state: makemigrations finds
    nothing, and migrate runs the fixed files up, down and up."""
    pytest.importorskip("django")
    import psycopg

    from tests.integration.devdb.test_program_python import django_project, run

    project = django_project(tmp_path / "dj", more={"library/models.py": DJANGO_MODELS})
    info = psycopg.conninfo.conninfo_to_dict(pg_url)
    env = {**os.environ, "ACME_DB_NAME": info["dbname"], "ACME_DB_USER": info.get("user", ""),
           "ACME_DB_PASSWORD": info.get("password", ""), "ACME_DB_HOST": info.get("host", ""),
           "ACME_DB_PORT": str(info.get("port", "5432"))}
    run(project, env, "manage.py", "makemigrations", "--check", "--dry-run")  # the models and history agree
    (project / "library" / "models.py").write_text(DJANGO_CHANGED[change])
    asked = subprocess.run([sys.executable, "manage.py", "makemigrations", "library", "--name", change], cwd=project,
                           env=env, input="y\n", capture_output=True, text=True, timeout=300)  # renamed? yes
    assert asked.returncode == 0, asked.stderr
    made = project / "library" / "migrations" / f"0003_{change}.py"
    assert ("AlterField" if change == "indexes" else "RenameField") in made.read_text()

    code, out, err = flux(capsys, "fix", "--project", str(project), str(made), "--json")
    assert code == 0, err
    fixed = json.loads(out)
    assert not [c for c in fixed["code_changes"] if c["path"].endswith("models.py")]  # the models say it already
    result = fix_file(str(made), str(project), write=True)
    assert result.written and not made.exists()
    assert bool(result.record) == (change == "rename")  # the steps after its code deploy: flux continue
    while continue_migration(str(project)).remaining_steps if result.record else False:
        pass
    run(project, env, "manage.py", "makemigrations", "--check", "--dry-run")
    run(project, env, "manage.py", "migrate", "library", "0002")
    before = catalog(pg_url)
    run(project, env, "manage.py", "migrate", "library")
    forward = catalog(pg_url)
    run(project, env, "manage.py", "migrate", "library", "0002")
    assert catalog(pg_url) == before
    run(project, env, "manage.py", "migrate", "library")
    assert catalog(pg_url) == forward
    with psycopg.connect(pg_url) as conn:
        indexes = {r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'library_book'")}
    wanted = ["(pages, title)", "(title)"] if change == "indexes" else ["library_book_title_idx ON public.library_book "
                                                                        "USING btree (headline)"]
    assert all(any(w in i for i in indexes) for w in wanted), indexes


@pytest.mark.parametrize("hook,said", [
    # ruff formats the revisions Flux writes: the text says so, as `flux plan --write` does
    ("ruff_format.type = exec\nruff_format.executable = {ruff}\nruff_format.options = format REVISION_SCRIPT_FILENAME",
     "(formatted as the project does: alembic's post_write_hooks: ruff_format)"),
    # a hook that fails: the files are written as Flux made them, and the note says why
    ("ruff_format.type = exec\nruff_format.executable = /nonexistent/ruff\nruff_format.options = format",
     "note: alembic/versions/"),
])
def test_fix_says_how_the_written_revisions_were_formatted(hook, said, tmp_path, capsys):
    pytest.importorskip("alembic")
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.is_file():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    project = alembic_project(tmp_path / "app")
    ini = project / "alembic.ini"
    ini.write_text(ini.read_text() + "\n[post_write_hooks]\nhooks = ruff_format\n" + hook.format(ruff=ruff) + "\n")
    (project / ALEMBIC_FIX).write_text(REVISION.format(doc="rename", rev="b2c3d4e5f6a7", down='"a1b2c3d4e5f6"',
                                                       up=ALEMBIC["rename_column"], down_body="pass"))
    code, out, err = flux(capsys, "fix", "--project", str(project), ALEMBIC_FIX, "--write")
    assert code == 0, err
    assert f"Replaced {ALEMBIC_FIX} by" in out and said in out, out


ZOO_0001 = '''
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name="Animal", fields=[
            ("id", models.BigAutoField(primary_key=True)), ("name", models.CharField(max_length=100))]),
    ]
'''
ZOO_0002 = '''
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("zoo", "0001_initial")]
    operations = [
        migrations.AddIndex(model_name="animal", index=models.Index(fields=["name"], name="zoo_animal_name_idx")),
    ]
'''


def test_a_django_migration_of_another_app_is_planned_on_the_history_before_it(tmp_path, capsys):
    """healthchecks: `flux fix hc/api/migrations/0140_add_last_start_idx.py`, the detected folder being
    accounts': "an index or constraint named ... already exists", the file's own index read as made."""
    pytest.importorskip("django")
    from flux_agent.project.detect import detect
    from tests.integration.devdb.test_program_python import django_project

    project = django_project(tmp_path / "dj", more={
        "zoo/__init__.py": "", "zoo/migrations/__init__.py": "", "zoo/models.py": "",
        "zoo/migrations/0001_initial.py": ZOO_0001, "zoo/migrations/0002_name_idx.py": ZOO_0002})
    settings = project / "acme" / "settings.py"
    settings.write_text(settings.read_text().replace("['library']", "['library', 'zoo']"))
    assert detect(project).migrations_dir == "library/migrations"
    code, out, err = flux(capsys, "fix", "--project", str(project), "zoo/migrations/0002_name_idx.py", "--json")
    assert code == 0, err
    assert [o["op"] for o in json.loads(out)["operations"]] == ["add_index"]


def test_a_fixed_django_migration_is_black_clean_with_the_originals_state(tmp_path, capsys):
    """healthchecks: `fix --write` said the files were formatted as Django formats its own (black), and
    the one given the original's state_operations afterwards failed `black --check`."""
    pytest.importorskip("django")
    black = Path(sys.executable).with_name("black")
    if not black.is_file():
        pytest.skip("black is not installed (pip install -e '.[test]')")
    from tests.integration.devdb.test_program_python import django_project

    project = django_project(tmp_path / "dj", more={
        "library/migrations/0003_pages_idx.py": ZOO_0002
        .replace('"zoo", "0001_initial"', '"library", "0002_book_pages"')
        .replace('model_name="animal"', 'model_name="book"')
        .replace('"name"]', '"pages"]').replace("zoo_animal_name_idx", "library_book_pages_idx")})
    rel = "library/migrations/0003_pages_idx.py"
    code, out, err = flux(capsys, "fix", "--project", str(project), rel, "--write")
    assert code == 0, err
    assert "(formatted as the project does: Django's run_formatters: black)" in out, out
    written = [p for p in (project / "library" / "migrations").glob("0003_*.py")]
    assert written and any("state_operations" in p.read_text() for p in written)
    done = subprocess.run([str(black), "--check", *map(str, written)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
