"""The alembic and django writers, run by the real tools on a real PostgreSQL:
a minimal project of each builds examples/shop in its first migration, the
writer adds a plan's files, and the tool upgrades to the end, downgrades back
to the first migration and upgrades again; the database is checked each time.
Alembic through psycopg2, psycopg 3 and asyncpg (`alembic init -t async`, as polar's
env.py: asyncpg prepares each query, and every step of several statements failed).
Plus syntax, chaining and refusal checks without a database."""

from __future__ import annotations

import ast
import py_compile
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from flux_agent.project.detect import detect
from flux_agent.plan.planner import build_plan, planned_schema
from flux_agent.schema.replay.engine import up_sql_of
from flux_agent.entry.actions import parse_operations
from flux_agent.write.tools import get_writer
from flux_agent.pg.split import cut_statements

from cases import CASES
from shop import MIGRATIONS, SEED, SETTINGS, invalid_indexes, live_columns, live_indexes, model_columns, shop_schema

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
FIRST_REV = "5b0e1c2d3a4f"
# `:name`, `%` and `%(x)s` inside literals: each tool must send them as written.
TRICKY = "'{\"k\":1}'::jsonb::text || ' :name %s %(x)s 100%'"
TRICKY_OPS = [{"op": "raw_sql", "up": f"CREATE TABLE flux_tricky AS SELECT {TRICKY} AS v",
               "down": "DROP TABLE flux_tricky"}]
PLANS = {case_id: ops for case_id, ops, _ in CASES
         if case_id in ("add-nullable-column", "rename-table", "add-index", "backfill", "rename-column")}
PLANS["tricky-literals"] = TRICKY_OPS
INDEX_OF = {"add-index": "orders_user_id_idx", "rename-column": "users_email_address_key"}
SHOP_DOWN = "DROP TABLE IF EXISTS order_items, orders, products, users, legacy_events, events CASCADE; " \
            "DROP TYPE IF EXISTS payment_method;"


def shop_sql() -> str:
    return "\n".join(up_sql_of(p, p.read_text()) for p in sorted(MIGRATIONS.glob("*.sql"))) + SEED


def tables(conn: psycopg.Connection) -> dict:
    """live_columns without the tools' own bookkeeping tables."""
    return {t: c for t, c in live_columns(conn).items() if t not in ("alembic_version", "django_migrations")}


def run(cwd: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def plan_for(case_id: str, tool: str):
    return build_plan(parse_operations(PLANS[case_id]), shop_schema(), SETTINGS, tool)


def write_plan(project: Path, tool: str, case_id: str):
    found = detect(project)
    assert found.tool == tool
    writer = get_writer(tool)
    laid = writer.layout(plan_for(case_id, tool), project, found.migrations_dir, NOW)
    paths = writer.write(laid, project)
    for path in paths:
        ast.parse(path.read_text(), filename=str(path))
        py_compile.compile(str(path), cfile=str(path) + "c", doraise=True)
        Path(str(path) + "c").unlink()
    return laid


# --- projects -----------------------------------------------------------------


def alembic_project(root: Path, url: str, driver: str) -> Path:
    run(root, "-m", "alembic", "init", *(["-t", "async"] if driver == "asyncpg" else []), "alembic")
    info = psycopg.conninfo.conninfo_to_dict(url)
    import sqlalchemy as sa

    sa_url = sa.engine.URL.create(
        f"postgresql+{driver}", username=info.get("user"), password=info.get("password"),
        port=int(info["port"]) if info.get("port") else None, database=info["dbname"],
        query={"host": info["host"]} if info.get("host") else {})
    ini = root / "alembic.ini"
    rendered = sa_url.render_as_string(hide_password=False).replace("%", "%%")
    ini.write_text(ini.read_text().replace("driver://user:pass@localhost/dbname", rendered))
    run(root, "-m", "alembic", "revision", "-m", "shop schema", "--rev-id", FIRST_REV)
    first = next((root / "alembic" / "versions").glob(f"{FIRST_REV}_*.py"))
    # The tool's own template, with upgrade/downgrade redefined to build the shop.
    first.write_text(first.read_text() + textwrap.dedent(f"""

        SHOP_SQL = {cut_statements(shop_sql())!r}


        def upgrade() -> None:
            for sql in SHOP_SQL:
                op.execute(sa.DDL(sql.replace("%", "%%")))


        def downgrade() -> None:
            for sql in {cut_statements(SHOP_DOWN)!r}:
                op.execute(sa.DDL(sql))
        """))
    return root


def django_project(root: Path, url: str) -> Path:
    info = psycopg.conninfo.conninfo_to_dict(url)
    db = {"ENGINE": "django.db.backends.postgresql", "NAME": info["dbname"], "USER": info.get("user", ""),
          "PASSWORD": info.get("password", ""), "HOST": info.get("host", ""), "PORT": info.get("port", "")}
    files = {
        "manage.py": "import os, sys\n\nif __name__ == '__main__':\n"
                     "    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n"
                     "    from django.core.management import execute_from_command_line\n"
                     "    execute_from_command_line(sys.argv)\n",
        "proj/__init__.py": "",
        "proj/settings.py": f"SECRET_KEY = 'flux-test'\nINSTALLED_APPS = ['shop']\nUSE_TZ = True\n"
                            f"DATABASES = {{'default': {db!r}}}\n",
        "shop/__init__.py": "",
        "shop/migrations/__init__.py": "",
        "shop/migrations/0001_initial.py": "from django.db import migrations\n\n\n"
                                           "class Migration(migrations.Migration):\n    initial = True\n"
                                           "    dependencies = []\n    operations = [\n"
                                           f"        migrations.RunSQL(sql=[{shop_sql()!r}], "
                                           f"reverse_sql=[{SHOP_DOWN!r}]),\n    ]\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


# --- the real tools -------------------------------------------------------------


class Tool:
    def __init__(self, name: str, root: Path, url: str, driver: str):
        self.name, self.root, self.url = name, root, url
        if name == "alembic":
            pytest.importorskip("alembic")
            pytest.importorskip(driver)
            alembic_project(root, url, driver)
        else:
            pytest.importorskip("django")
            django_project(root, url)

    def up(self) -> None:
        if self.name == "alembic":
            run(self.root, "-m", "alembic", "upgrade", "head")
        else:
            run(self.root, "manage.py", "migrate", "shop")

    def down_to_first(self) -> None:
        if self.name == "alembic":
            run(self.root, "-m", "alembic", "downgrade", FIRST_REV)
        else:
            run(self.root, "manage.py", "migrate", "shop", "0001")

    def applied(self) -> list[str]:
        with psycopg.connect(self.url) as conn:
            if self.name == "alembic":
                return [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
            return [r[0] for r in conn.execute(
                "SELECT name FROM django_migrations WHERE app = 'shop' ORDER BY id")]


RUNS = [("alembic", "psycopg2", c) for c in PLANS] + [("alembic", "psycopg", "rename-column"),
                                                       ("alembic", "psycopg", "tricky-literals")]
RUNS += [("alembic", "asyncpg", c) for c in ("rename-column", "tricky-literals", "add-index")]
RUNS += [("django", "psycopg", c) for c in PLANS]


@pytest.mark.slow
@pytest.mark.parametrize("tool_name, driver, case_id", RUNS, ids=[f"{t}-{d}-{c}" for t, d, c in RUNS])
def test_tool_upgrades_downgrades_upgrades(pg_url, tmp_path, tool_name, driver, case_id):
    tool = Tool(tool_name, tmp_path, pg_url, driver)
    tool.up()  # the first migration: the shop schema with its rows
    with psycopg.connect(pg_url) as conn:
        original = tables(conn)
    assert original == model_columns(shop_schema())
    laid = write_plan(tmp_path, tool_name, case_id)
    last = Path([s for s in laid.steps if s.files][-1].files[0]).stem
    intended = model_columns(planned_schema(parse_operations(PLANS[case_id]), shop_schema()))
    index = INDEX_OF.get(case_id)

    def check_forward():
        with psycopg.connect(pg_url) as conn:
            columns = tables(conn)
            if case_id != "tricky-literals":
                assert columns == intended
            assert invalid_indexes(conn) == []
            if index:
                assert index in live_indexes(conn)
            if case_id == "backfill":
                counts = dict(conn.execute("SELECT status, count(*) FROM orders GROUP BY 1").fetchall())
                assert "pending" not in counts and counts["PENDING"] > 0
            if case_id == "tricky-literals":
                expected = conn.execute(f"SELECT {TRICKY}").fetchone()[0]
                assert expected == '{"k": 1} :name %s %(x)s 100%'
                assert conn.execute("SELECT v FROM flux_tricky").fetchone()[0] == expected
        applied = tool.applied()
        assert (applied == [last[:12]]) if tool_name == "alembic" else (applied[-1] == last)

    tool.up()
    check_forward()
    tool.down_to_first()
    with psycopg.connect(pg_url) as conn:
        assert tables(conn) == original
        assert invalid_indexes(conn) == []
        if index:
            assert index not in live_indexes(conn)
    assert tool.applied() == ([FIRST_REV] if tool_name == "alembic" else ["0001_initial"])
    tool.up()
    check_forward()


@pytest.mark.slow
def test_alembic_offline_sql_is_verbatim(tmp_path):
    pytest.importorskip("alembic")
    pytest.importorskip("psycopg2")
    alembic_project(tmp_path, "host=/nonexistent dbname=offline user=nobody", "psycopg2")
    write_plan(tmp_path, "alembic", "rename-column")
    out = run(tmp_path, "-m", "alembic", "upgrade", f"{FIRST_REV}:head", "--sql")
    assert "RAISE NOTICE 'flux backfill %: % rows updated'" in out and "%%" not in out
    assert "NEW.email_address := new.email;" in out
    assert "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_address_key" in out


# --- file content, without a database -----------------------------------------------

from hypothesis import given, strategies as st  # noqa: E402

from flux_agent.errors import FluxInputError  # noqa: E402
from flux_agent.model.plan import Step  # noqa: E402
from flux_agent.write.tools.alembic import WRITER as ALEMBIC, current_head, py_literal, read_revisions  # noqa: E402
from flux_agent.write.tools.django import WRITER as DJANGO, read_migrations  # noqa: E402

TEMPLATE_REV = '''"""initial\n\nRevision ID: {rev}\n"""\nfrom typing import Sequence, Union\n
revision: str = {rev!r}
down_revision: Union[str, Sequence[str], None] = {down!r}
branch_labels: Union[str, Sequence[str], None] = None
'''


def assigned(tree: ast.AST, name: str):
    return next(ast.literal_eval(n.value) for n in ast.walk(tree)
                if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name)


def test_registry_hands_out_both_writers():
    assert get_writer("alembic") is ALEMBIC and ALEMBIC.tool == "alembic"
    assert get_writer("django") is DJANGO and DJANGO.tool == "django"


def _joined(sql) -> str:
    """An Alembic file's UP_SQL (a list: one statement an item) or a Django file's (a string), whole."""
    return "\n".join(sql) if isinstance(sql, list) else sql


def test_alembic_golden_chain(tmp_path):
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "aaa_first.py").write_text(TEMPLATE_REV.format(rev="aaa", down=None))
    (versions / "bbb_second.py").write_text(TEMPLATE_REV.format(rev="bbb", down="aaa"))
    plan = plan_for("rename-column", "alembic")
    laid = ALEMBIC.layout(plan, tmp_path, "alembic/versions", NOW)
    assert laid == ALEMBIC.layout(plan, tmp_path, "alembic/versions", NOW)  # deterministic
    assert laid.steps[0].files != ALEMBIC.layout(plan, tmp_path, "alembic/versions", datetime(2026, 1, 1)).steps[0].files
    parent = "bbb"
    for step, job in zip([s for s in laid.steps if s.phase != "code"], ALEMBIC.jobs(laid, tmp_path)):
        name = Path(job.rel).name
        assert job.rel.startswith("alembic/versions/") and name[12] == "_" and int(name[:12], 16) >= 0
        tree = ast.parse(job.content)
        assert (assigned(tree, "revision"), assigned(tree, "down_revision")) == (name[:12], parent)
        assert ast.get_docstring(tree).startswith(f"Step {step.number} ({step.phase}): ")
        assert _joined(assigned(tree, "UP_SQL")) == step.up_file_sql.strip()
        blocks = job.content.count("with op.get_context().autocommit_block():")
        if step.down_sql:
            assert _joined(assigned(tree, "DOWN_SQL")) == step.down_file_sql.strip()
            assert blocks == (0 if step.transactional else 2)
        else:
            assert "# nothing to undo: " in job.content and job.content.endswith("    pass\n")
            assert blocks == (0 if step.transactional else 1)
        parent = name[:12]
    assert [s.files for s in laid.steps if s.phase == "code"] == [[]]
    ALEMBIC.write(laid, tmp_path)
    assert current_head(read_revisions(versions)) == parent


def test_alembic_reads_merges_and_refuses_several_heads(tmp_path):
    v = tmp_path / "versions"
    v.mkdir()
    (v / "__init__.py").write_text("")
    (v / "helpers.py").write_text("X = 1\n")
    (v / "a.py").write_text(TEMPLATE_REV.format(rev="a", down=None))
    (v / "b.py").write_text(TEMPLATE_REV.format(rev="b", down="a"))
    (v / "c.py").write_text(TEMPLATE_REV.format(rev="c", down="a"))
    with pytest.raises(FluxInputError) as err:
        ALEMBIC.layout(plan_for("add-index", "alembic"), tmp_path, "versions", NOW)
    assert "2 heads (b, c)" in str(err.value) and "\n" not in str(err.value)
    (v / "m.py").write_text(TEMPLATE_REV.format(rev="m", down=("b", "c")))
    laid = ALEMBIC.layout(plan_for("add-index", "alembic"), tmp_path, "versions", NOW)
    assert assigned(ast.parse(ALEMBIC.jobs(laid, tmp_path)[0].content), "down_revision") == "m"
    (v / "broken.py").write_text("revision = (\n")
    with pytest.raises(FluxInputError, match="cannot read alembic migration broken.py"):
        ALEMBIC.layout(plan_for("add-index", "alembic"), tmp_path, "versions", NOW)


def test_django_golden_chain(tmp_path):
    mig = tmp_path / "shop" / "migrations"
    mig.mkdir(parents=True)
    (mig / "__init__.py").write_text("")
    (mig / "0001_initial.py").write_text("class Migration:\n    dependencies = [('auth', '0002_x')]\n")
    (mig / "0002_more.py").write_text("class Migration:\n    dependencies = [('shop', '0001_initial')]\n")
    laid = DJANGO.layout(plan_for("rename-column", "django"), tmp_path, "shop/migrations", NOW)
    previous = "0002_more"
    steps = [s for s in laid.steps if s.phase != "code"]
    jobs = DJANGO.jobs(laid, tmp_path)
    assert len(jobs) == len(steps)  # __init__.py exists already
    for number, (step, job) in enumerate(zip(steps, jobs), start=3):
        name = Path(job.rel).stem
        assert job.rel.startswith(f"shop/migrations/{number:04d}_")
        tree = ast.parse(job.content)
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
        assert assigned(cls, "dependencies") == [("shop", previous)]
        assert ("    atomic = False\n" in job.content) is (not step.transactional)
        assert "initial = True" not in job.content
        assert _joined(assigned(tree, "UP_SQL")) == step.up_file_sql.strip()
        if step.down_sql:
            assert "reverse_sql=[DOWN_SQL]" in job.content
        else:
            assert "reverse_sql=migrations.RunSQL.noop" in job.content and "# nothing to undo: " in job.content
        previous = name
    DJANGO.write(laid, tmp_path)
    assert set(read_migrations(mig)) == {"0001_initial", "0002_more"} | {Path(j.rel).stem for j in jobs}


def test_django_app_label_leaves_and_package(tmp_path):
    (tmp_path / "billing").mkdir()
    (tmp_path / "billing" / "apps.py").write_text("class C:\n    name = 'billing'\n    label = 'money'\n")
    laid = DJANGO.layout(plan_for("add-index", "django"), tmp_path, "billing/migrations", NOW)
    jobs = DJANGO.jobs(laid, tmp_path)
    assert [j.rel for j in jobs] == ["billing/migrations/__init__.py", laid.steps[0].files[0]]
    assert laid.steps[0].files[0].startswith("billing/migrations/0001_")
    assert "initial = True" in jobs[1].content and "dependencies = []" in jobs[1].content
    mig = tmp_path / "billing" / "migrations"
    mig.mkdir()
    (mig / "0001_squashed_0002.py").write_text("class Migration:\n    replaces = [('money', '0001_a'), ('money', '0002_b')]\n")
    (mig / "0003_c.py").write_text("class Migration:\n    dependencies = [('money', '0002_b')]\n")
    cls = ast.parse(DJANGO.jobs(DJANGO.layout(plan_for("add-index", "django"), tmp_path, "billing/migrations", NOW),
                                tmp_path)[-1].content)
    assert assigned(cls, "dependencies") == [("money", "0003_c")]
    (mig / "0003_d.py").write_text("class Migration:\n    dependencies = [('money', '0001_squashed_0002')]\n")
    with pytest.raises(FluxInputError, match=r"2 latest migrations \(0003_c, 0003_d\)"):
        DJANGO.jobs(laid, tmp_path)
    with pytest.raises(FluxInputError, match="<app>/migrations"):
        DJANGO.layout(plan_for("add-index", "django"), tmp_path, "migrations", NOW)


@given(st.text())
def test_py_literal_round_trips(text):
    assert ast.literal_eval(py_literal(text)) == text


def test_py_literal_and_docstring_edge_cases(tmp_path):
    for text in ["a\\b", "x'''y", "ends with 'q'", "tab\there\nnew", "cr\r\nlf", "é — ü", '"""', "100% :x"]:
        assert ast.literal_eval(py_literal(text)) == text
    assert py_literal("SELECT 1;\nSELECT 2;") == "'''\\\nSELECT 1;\nSELECT 2;'''"
    step = Step(number=1, phase="migrate", title='a """quoted\\ title\x00', up_sql="SELECT '%'", down_sql=None)
    plan = plan_for("add-index", "alembic").model_copy(update={"steps": [step]})
    for writer, folder in ((ALEMBIC, "v"), (DJANGO, "app/migrations")):
        job = writer.jobs(writer.layout(plan, tmp_path, folder, NOW), tmp_path)[-1]
        assert ast.get_docstring(ast.parse(job.content)).splitlines()[0] == 'Step 1 (migrate): a """quoted\\ title'


def test_flux_validate_finds_nothing_unknown_in_its_own_alembic_files(tmp_path):
    """polar: a column Flux's revision adds (inside its lock-retry DO block, whose RAISE has %) was
    unknown to the next revision's index: the reader doubled every %, the block did not parse, and
    what it ran was passed over."""
    pytest.importorskip("alembic")
    from flux_agent.entry.validate import validate_paths

    alembic_project(tmp_path, "host=/nonexistent dbname=offline user=nobody", "psycopg2")
    write_plan(tmp_path, "alembic", "add-nullable-column")
    plan = build_plan(parse_operations([{"op": "add_index", "table": "users", "columns": ["nickname"]}]),
                      planned_schema(parse_operations(PLANS["add-nullable-column"]), shop_schema()), SETTINGS)
    writer = get_writer("alembic")
    writer.write(writer.layout(plan, tmp_path, "alembic/versions", NOW.replace(minute=7)), tmp_path)
    findings = validate_paths([str(tmp_path / "alembic" / "versions")], str(tmp_path))[1]
    assert not [f for f in findings if f.rule in ("unknown-table-or-column", "not-analysed")], findings
