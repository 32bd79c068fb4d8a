"""Issue 12, "wrong results": one regression test per numbered item, each failing on
the code before its fix. Plans run on a copy of examples/shop."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from flux_agent.entry import actions as tools

from shop import SHOP


@pytest.fixture
def proj(tmp_path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(SHOP, target)
    return target


# -- item 4: the summary names the files as written ----------------------------------------------------

@pytest.mark.pg
def test_summary_after_write_names_the_files_as_written(proj):
    # Planned "yesterday": the files are named again at write time, a day later.
    then = datetime(2026, 1, 1, tzinfo=timezone.utc)
    plan = tools.plan_migration([{"op": "rename_column", "table": "users", "column": "email",
                                  "new_name": "email_address"}], str(proj), now=then)
    outcome = tools.write_migration(plan, str(proj))
    written = outcome.plan
    assert outcome.files and all((proj / f).is_file() for f in outcome.files)
    named = [f for s in written.steps for f in s.files]
    for name in outcome.files:
        assert name in written.summary  # the summary shows the names on disk ...
    stale = [f for s in plan.steps for f in s.files if f not in named]
    assert stale and not any(f in written.summary for f in stale)  # ... and none of the plan-time ones


# -- item 2: an expression printed back keeps its meaning, precedence included ---------------------------

# Defaults of every shape that binds less tightly than a column constraint's DEFAULT takes.
DEFAULTS = [
    "current_setting('app.x', true) IS NULL",
    "1 + 2 * 3",
    "(1 + 2) * 3",
    "NOT false",
    "true AND NOT false OR false",
    "'a' || 'b'",
    "2 BETWEEN 1 AND 3",
    "3 IN (1, 2, 3)",
    "-(5)",
    "CASE WHEN length('ab') > 2 THEN 1 ELSE 2 END",
    "'x'::text COLLATE \"C\"",
    "'2020-01-01 12:00+02'::timestamptz AT TIME ZONE 'UTC'",
    "1 IS DISTINCT FROM 2",
    "'2020-01-01'::date + 1",
    "ARRAY[1, 2] || 3",
    "(1, 2) < (1, 3)",
]


def _default_of(conn, table: str) -> str:
    """The value a new row gets (the expressions are deterministic): same value, same meaning,
    whether PostgreSQL prints the expression the same way or not (AT TIME ZONE comes back as timezone())."""
    return conn.execute(f"INSERT INTO {table} (id) VALUES (1) RETURNING c::text").fetchone()[0]


@pytest.mark.slow
@pytest.mark.parametrize("expr", DEFAULTS)
def test_create_table_keeps_a_default_meaning(pg_url, expr):
    """The schema read back (replay) and printed as CREATE TABLE (the drop_table rollback and
    verify's build) gives PostgreSQL the same default it had."""
    import psycopg

    from flux_agent.pg.ddl import create_table_sql
    from flux_agent.schema.replay.engine import replay_sql

    typed = f"SELECT pg_typeof({expr})::text"
    original = f"CREATE TABLE t (id bigint PRIMARY KEY, c {{type}} DEFAULT ({expr}))"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        kind = conn.execute(typed).fetchone()[0]
        conn.execute(original.format(type=kind))
        table = replay_sql(original.format(type=kind)).table("t")
        conn.execute("CREATE SCHEMA copy")  # the copy keeps the original's constraint names
        conn.execute(create_table_sql(table, "copy.t"))
        assert _default_of(conn, "copy.t") == _default_of(conn, "t")


@pytest.mark.pg
def test_drop_table_rollback_restores_a_default_needing_parentheses(tmp_path):
    folder = tmp_path / "p" / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "20250101000000_init.sql").write_text(
        "-- migrate:up\nCREATE TABLE flags (id bigint PRIMARY KEY, "
        "off boolean DEFAULT (current_setting('app.x', true) IS NULL));\n-- migrate:down\nDROP TABLE flags;\n")
    plan = tools.plan_migration([{"op": "drop_table", "table": "flags"}], str(tmp_path / "p"))
    downs = " ".join(s.down_sql or "" for s in plan.steps)
    assert "DEFAULT (current_setting('app.x', TRUE) IS NULL)" in downs


# -- items 1 and 3: every plan passes its own validator, as a plan and as the files it wrote ------------

# Added to the migration that creates the tables, where they are safe.
TOUCHED = """CREATE INDEX orders_user_id_idx ON orders (user_id);
ALTER TABLE orders ADD CONSTRAINT orders_user_id_positive CHECK (user_id > 0);
ALTER TABLE orders ADD CONSTRAINT orders_user_id_created_key UNIQUE (user_id, created_at);
ALTER TABLE order_items ADD CONSTRAINT order_items_quantity_key UNIQUE (order_id, quantity);
CREATE INDEX orders_status_total_idx ON orders (status, total) WHERE total > 0;
ALTER TABLE order_items ADD COLUMN gift_for bigint;
"""

# One case per operation class, on columns that carry an index, a foreign key, a unique and a check.
EVERY_CLASS = [
    {"op": "rename_column", "table": "orders", "column": "user_id", "new_name": "customer_id"},
    {"op": "change_column_type", "table": "orders", "column": "status", "type": "varchar(50)"},
    {"op": "change_column_type", "table": "order_items", "column": "quantity", "type": "bigint"},
    {"op": "change_column_type", "table": "orders", "column": "user_id", "type": "integer"},
    {"op": "change_column_type", "table": "orders", "column": "total", "type": "bigint",
     "using": "round(total * 100)"},
    {"op": "add_column", "table": "orders", "column": "public_id", "type": "uuid", "nullable": False,
     "default": "gen_random_uuid()"},
    {"op": "add_column", "table": "orders", "column": "weight", "type": "bigint", "nullable": False,
     "backfill": "0"},
    {"op": "drop_column", "table": "orders", "column": "status"},
    {"op": "set_not_null", "table": "orders", "column": "note", "backfill": "''"},
    {"op": "drop_not_null", "table": "orders", "column": "user_id"},
    {"op": "set_default", "table": "orders", "column": "user_id", "default": "1"},
    {"op": "drop_default", "table": "orders", "column": "status"},
    {"op": "add_index", "table": "orders", "columns": ["user_id", "status"], "unique": True},
    {"op": "drop_index", "name": "orders_user_id_idx"},
    # (a second key on order_items.order_id, as this was, is refused now: it has one, under another name)
    {"op": "add_foreign_key", "table": "order_items", "columns": ["gift_for"], "ref_table": "users",
     "ref_columns": ["id"], "name": "order_items_gift_for_fk"},
    {"op": "add_check", "table": "orders", "expression": "user_id < 1000000000"},
    {"op": "add_unique", "table": "orders", "columns": ["user_id", "status"]},
    {"op": "create_table", "table": "refunds", "columns": [
        {"name": "id", "type": "bigint", "primary_key": True}, {"name": "order_id", "type": "bigint"}]},
    {"op": "rename_table", "table": "orders", "new_name": "purchases"},
    {"op": "drop_table", "table": "legacy_events"},
    {"op": "backfill", "table": "orders", "column": "user_id", "value": "user_id", "where": "user_id > 0"},
    {"op": "add_enum_value", "enum": "payment_method", "value": "cash"},
]


def _with_touched_objects(proj: Path) -> Path:
    orders = proj / "db" / "migrations" / "20250101090200_create_orders.sql"
    orders.write_text(orders.read_text().replace("\n-- migrate:down", TOUCHED + "\n-- migrate:down"))
    return proj


@pytest.mark.slow
@pytest.mark.pg
@pytest.mark.parametrize("op", EVERY_CLASS, ids=lambda op: f"{op['op']}-{op.get('column', op.get('table', ''))}")
def test_every_plan_passes_its_validator_as_written(proj, tmp_path, monkeypatch, capsys, op):
    import json

    from flux_agent.entry.cli import main

    _with_touched_objects(proj)
    plan = tools.plan_migration([op], str(proj))
    assert [f for f in plan.findings if f.severity == "error"] == []  # item 1: no self-refusal
    assert main(["plan", "--project", str(proj), "--op", json.dumps(op), "--write"]) == 0
    for _ in range(len(plan.steps)):
        if main(["continue", "--project", str(proj)]) != 0:
            break
    capsys.readouterr()
    folder = proj / "db" / "migrations"
    written = sorted(p.name for p in folder.iterdir())
    assert len(written) - 5 == sum(s.phase != "code" for s in plan.steps)  # every step written
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # item 3: a folder is judged in order with or without --project
    for extra in (["--project", str(proj)], []):
        code = main(["validate", str(folder), "--json", *extra])
        findings = json.loads(capsys.readouterr().out)
        errors = [f"{f['path'].rsplit('/', 1)[-1]}:{f['line']} {f['rule']}" for f in findings
                  if f["severity"] == "error"]
        assert errors == [] and code == 0, (extra, errors)


# -- item 5: an UPDATE of a column added earlier in the same file destroys nothing -----------------------

def _errors(sql: str, schema=None) -> list[str]:
    from flux_agent.lint.context import FileContext
    from flux_agent.lint.engine import lint_sql

    return [f.rule for f in lint_sql(sql, FileContext(schema=schema)) if f.severity == "error"]


def test_update_of_a_column_added_in_the_same_file_is_not_destructive():
    from shop import shop_schema

    added = "ALTER TABLE users ADD COLUMN score integer;\nUPDATE users SET score = 0;"
    assert "destructive-outside-contract" not in _errors(added, shop_schema())
    # Old data in the same statement, or without the ADD COLUMN, is still flagged.
    mixed = "ALTER TABLE users ADD COLUMN score integer;\nUPDATE users SET score = 0, name = 'x';"
    assert "destructive-outside-contract" in _errors(mixed, shop_schema())
    assert "destructive-outside-contract" in _errors("UPDATE users SET name = 'x';", shop_schema())


# -- item 6: identifiers over 63 bytes ------------------------------------------------------------------

def test_identifier_over_63_bytes_is_flagged():
    from flux_agent.lint.context import FileContext
    from flux_agent.lint.engine import lint_sql

    def rules(sql):
        return [f.rule for f in lint_sql(sql, FileContext())]

    long = "a" * 64
    assert "identifier-too-long" in rules(f"CREATE TABLE t ({long} bigint);")
    assert "identifier-too-long" in rules(f'CREATE INDEX "{long.upper()}" ON t (x);')
    assert "identifier-too-long" in rules(f"ALTER TABLE t RENAME COLUMN x TO {'é' * 32};")  # 64 bytes, 32 chars
    assert "identifier-too-long" not in rules(f"CREATE TABLE t ({'a' * 63} bigint, note text DEFAULT '{long}');")


# -- item 7: up-only projects -------------------------------------------------------------------------

def _golang_migrate(root: Path, downs: bool) -> Path:
    folder = root / "migrations"
    folder.mkdir(parents=True)
    (folder / "000001_users.up.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY);\n")
    (folder / "000002_posts.up.sql").write_text("CREATE TABLE posts (id bigint PRIMARY KEY);\n")
    if downs:
        (folder / "000001_users.down.sql").write_text("DROP TABLE users;\n")
    return folder


def _rules_of(paths, project) -> list[str]:
    return [f.rule for f in tools.validate_migration([str(p) for p in paths], str(project))]


def test_up_only_folder_gets_no_missing_rollback(tmp_path):
    folder = _golang_migrate(tmp_path / "up_only", downs=False)
    assert "missing-rollback" not in _rules_of([folder], tmp_path / "up_only")


def test_a_folder_with_downs_still_needs_them_unless_require_down_is_false(tmp_path):
    project = tmp_path / "mixed"
    folder = _golang_migrate(project, downs=True)
    found = tools.validate_migration([str(folder)], str(project))
    assert [(Path(f.path).name, f.rule) for f in found if f.rule == "missing-rollback"] == [
        ("000002_posts.up.sql", "missing-rollback")]
    (project / ".flux.yaml").write_text("require_down: false\n")
    assert "missing-rollback" not in _rules_of([folder], project)


# -- item 8: an empty schema is explained when the migrations are elsewhere -----------------------------

@pytest.mark.pg
def test_empty_schema_with_migrations_elsewhere_says_where_it_looked(tmp_path, capsys):
    from flux_agent.entry.cli import main

    project = tmp_path / "app"
    (project / "database" / "sql").mkdir(parents=True)
    (project / "database" / "sql" / "001_init.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY);\n")
    assert main(["schema", "--project", str(project), "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "db/migrations/" in err[0] and "database/sql/" in err[0] and "migrations_dir" in err[0]
    # Pointed there, Flux reads it.
    (project / ".flux.yaml").write_text("migrations_dir: database/sql\n")
    assert main(["schema", "--project", str(project)]) == 0
    assert "users(id bigint NOT NULL)" in capsys.readouterr().out


@pytest.mark.pg
def test_empty_schema_of_a_new_project_is_fine(tmp_path, capsys):
    from flux_agent.entry.cli import main

    (tmp_path / "seeds.sql").write_text("INSERT INTO nothing VALUES (1);\n")
    assert main(["schema", "--project", str(tmp_path)]) == 0
