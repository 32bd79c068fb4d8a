"""The JS migration tools (and dbmate) run what our writers write.

For each tool and plan: a fresh database built from examples/shop, a minimal
tool project in tmp_path (tests/js_tools.py), the tool's own upgrade, its rollback
of everything we wrote, and the upgrade again, with the plan's effect checked each time.
Drizzle has no down migrations: its written `.down.sql` files are run with
psycopg the way psql runs them, and so are its manual (non-transactional) files.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from cases import CASES
from js_tools import NODE, PACKAGES, Project, db_steps, modules, run
from flux_agent.plan.naming import index_name
from flux_agent.plan.planner import build_plan
from flux_agent.entry.actions import parse_operations
from flux_agent.write.tools import get_writer
from flux_agent.write.tools._js import statements
from shop import SETTINGS, build_shop, live_indexes, shop_schema

TOOLS = list(PACKAGES)

# Every character a JS string literal or the tool's own placeholder syntax could mangle.
QUOTED = "a\\b `x` ${y} $1 ? ?? :name %s \\n"
QUOTING = [{"op": "raw_sql", "up": (
    "CREATE TABLE flux_quote (id int PRIMARY KEY, s text, j jsonb);\n"
    f"INSERT INTO flux_quote VALUES (1, '{QUOTED}', '{{\"a\": 1}}');\n"
    "CREATE VIEW flux_quote_v AS SELECT id, j ? 'a' AS has_a FROM flux_quote"),
    "down": "DROP VIEW flux_quote_v;\nDROP TABLE flux_quote"}]


def _columns(conn, table):
    return {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))}


def _quoted(conn):
    if "flux_quote" not in {r[0] for r in conn.execute("SELECT tablename FROM pg_tables")}:
        return None
    return conn.execute("SELECT s, has_a FROM flux_quote JOIN flux_quote_v USING (id)").fetchone()


# case -> (operations, effect(conn), effect when applied, effect when rolled back)
TYPEORM_INDEX = index_name("typeorm", "orders", ["user_id"])  # TypeORM's own name for it (plan/naming.py)
KNEX_INDEX = index_name("knex", "orders", ["user_id"])  # knex's: orders_user_id_index
PLANS = {
    "add-nullable-column": (lambda c: "nickname" in _columns(c, "users"), True, False),
    "add-index": (lambda c: bool({"orders_user_id_idx", TYPEORM_INDEX, KNEX_INDEX} & set(live_indexes(c))), True, False),
    "backfill": (lambda c: c.execute("SELECT count(*) FROM orders WHERE status = 'pending'").fetchone()[0] == 0,
                 True, True),  # nothing to undo: the values stay
    "rename-column": (lambda c: sorted({"email", "email_address"} & _columns(c, "users")),
                      ["email_address"], ["email"]),
    "quoting": (_quoted, (QUOTED, True), None),
}
OPS = {cid: ops for cid, ops, _ in CASES} | {"quoting": QUOTING}


def effect(url: str, case: str):
    with psycopg.connect(url, autocommit=True) as conn:
        return PLANS[case][0](conn)


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.parametrize("case", list(PLANS))
@pytest.mark.parametrize("tool", TOOLS)
def test_tool_runs_written_plan(tool, case, pg_url, tmp_path):
    nm = modules(tool)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        build_shop(conn)
    root = tmp_path / "project"
    root.mkdir()
    project = Project(tool, root, pg_url, nm)
    writer = get_writer(tool)
    plan = build_plan(parse_operations(OPS[case]), shop_schema(), SETTINGS, tool=tool)
    laid = writer.layout(plan, root, writer.default_dir, datetime.now(timezone.utc))
    written = writer.write(laid, root)
    project.check_syntax(written)
    _, applied, rolled_back = PLANS[case]
    already = 1 if tool == "drizzle" else 0  # drizzle's baseline entry

    project.upgrade(laid)
    assert effect(pg_url, case) == applied
    assert project.recorded() == already + (len(db_steps(laid)) if tool != "drizzle"
                                            else sum(s.transactional for s in db_steps(laid)))
    project.rollback(laid)
    assert effect(pg_url, case) == rolled_back
    assert project.recorded() == already
    project.upgrade(laid)
    assert effect(pg_url, case) == applied


def _shop_project(pg_url: str, tmp_path: Path, migrations: dict[str, str]) -> Path:
    """A project folder beside a database built from examples/shop, its migrations folder holding these."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        build_shop(conn)
    root = tmp_path / "project"
    (root / "migrations").mkdir(parents=True)
    for name, text in migrations.items():
        (root / "migrations" / name).write_text(text)
    return root


def _written(tool: str, case: str, root: Path):
    """The case's plan laid out for the tool in `root` and written: (the plan, the files written)."""
    writer = get_writer(tool)
    plan = build_plan(parse_operations(OPS[case]), shop_schema(), SETTINGS, tool=tool)
    laid = writer.layout(plan, root, writer.default_dir, datetime.now(timezone.utc))
    return laid, writer.write(laid, root)


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.parametrize("case", ["rename-column", "add-index"])
def test_node_pg_migrate_writes_sql_migrations_where_the_folder_holds_them(case, pg_url, tmp_path):
    """A folder of node-pg-migrate SQL migrations (`-- Up Migration` / `-- Down Migration`) got `.js`
    files: its steps are `.sql` files there now, but a step outside a transaction (node-pg-migrate
    runs a SQL file inside its own, which CONCURRENTLY cannot), still a script with pgm.noTransaction()."""
    root = _shop_project(pg_url, tmp_path, {"1700000000000_baseline.sql": (
        "-- Up Migration\nCREATE TABLE flux_baseline (id int);\n\n-- Down Migration\nDROP TABLE flux_baseline;\n")})
    project = Project("node-pg-migrate", root, pg_url, modules("node-pg-migrate"))
    laid, written = _written("node-pg-migrate", case, root)
    assert (".sql" in {p.suffix for p in written}) == (case == "rename-column")
    assert all(p.suffix == (".sql" if s.transactional else ".js") for s in db_steps(laid) for p in map(Path, s.files))
    project.check_syntax([p for p in written if p.suffix == ".js"])
    _, applied, rolled_back = PLANS[case]
    project.upgrade(laid)
    assert effect(pg_url, case) == applied
    assert project.recorded() == 1 + len(db_steps(laid))
    project.rollback(laid)
    assert effect(pg_url, case) == rolled_back
    project.upgrade(laid)
    assert effect(pg_url, case) == applied


@pytest.mark.slow
@pytest.mark.node
def test_typeorm_registers_its_migrations_where_an_index_file_lists_them(pg_url, tmp_path):
    """Flowise's DataSource runs the classes its migrations/postgres/index.ts lists: a migration Flux
    wrote beside them never ran. Flux adds it there as the folder's own are, and TypeORM runs it."""
    index = "import { Baseline1700000000000 } from './1700000000000-Baseline'\n\nexport const all = [\n    Baseline1700000000000\n]\n"
    root = _shop_project(pg_url, tmp_path, {"1700000000000-Baseline.ts": (
        'import { MigrationInterface, QueryRunner } from "typeorm";\n'
        "export class Baseline1700000000000 implements MigrationInterface {\n"
        "    public async up(q: QueryRunner): Promise<void> { await q.query(`CREATE TABLE flux_baseline (id int)`); }\n"
        "    public async down(q: QueryRunner): Promise<void> { await q.query(`DROP TABLE flux_baseline`); }\n}\n"),
        "index.ts": index})
    project = Project("typeorm", root, pg_url, modules("typeorm"))
    source = (root / "data-source.ts").read_text()
    (root / "data-source.ts").write_text(source.replace('import { DataSource } from "typeorm";',
                                                        'import { DataSource } from "typeorm";\nimport { all } from "./migrations";')
                                         .replace('migrations: [__dirname + "/migrations/*.ts"]', "migrations: all"))
    laid, _ = _written("typeorm", "rename-column", root)
    listed = (root / "migrations" / "index.ts").read_text()
    assert listed.startswith(index.split("\n")[0]) and listed.count("import {") == 1 + len(db_steps(laid))
    project.check_syntax([])
    project.upgrade(laid)
    assert project.recorded() == 1 + len(db_steps(laid))
    assert effect(pg_url, "rename-column") == ["email_address"]


# -- the writers alone (no database) ------------------------------------------------

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
NASTY = ["a\\b", "`", "${x}", "$${", "\r\n", "\u2028", "\x00\x1f", "'\"", "é😀", "\\`\\${"]


@pytest.mark.node
def test_template_and_string_literals_round_trip(tmp_path):
    if not NODE:
        pytest.skip("node is not installed")
    from flux_agent.write.tools._js import string, template
    js = tmp_path / "t.js"
    js.write_text("process.stdout.write(JSON.stringify([" + ",".join(
        f"{template(s)},{string(s)}" for s in NASTY) + "]));\n", encoding="utf-8")
    assert json.loads(run([NODE, js], tmp_path)) == [s for s in NASTY for _ in (0, 1)]


def test_statements_keep_comments_and_end_with_semicolons():
    sql = "-- a\nSELECT 1;\n/* b */ SELECT $q$;$q$; SELECT 3 -- tail"
    assert statements(sql) == ["-- a\nSELECT 1;", "/* b */ SELECT $q$;$q$;", "SELECT 3; -- tail"]


def _laid(tool, root, case="rename-column"):
    writer = get_writer(tool)
    plan = build_plan(parse_operations(OPS[case]), shop_schema(), SETTINGS, tool=tool)
    return writer, writer.layout(plan, root, writer.default_dir, NOW)


def _names(laid):
    return [Path(f).name for s in db_steps(laid) for f in s.files]


def test_stamps_follow_existing_files(tmp_path):
    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "20300101000000_later.js").write_text("")
    (mig / "1900000000000-Later.ts").write_text("")
    index = "build_index_orders_user_id_idx_on_orders_user_id"
    assert _names(_laid("knex", tmp_path, "add-index")[1]) == [f"20300101000001_{index.replace('_idx_', '_index_')}.js"]
    assert _names(_laid("sequelize", tmp_path, "add-index")[1])[0].startswith("20300101000001-build_index")
    # TypeORM's name for the index (IDX_ and a hash) says nothing in a file name: left out of it
    assert _names(_laid("typeorm", tmp_path, "add-index")[1]) == ["1900000000001-BuildIndexOnOrdersUserId.ts"]
    npm = tmp_path / "npm"
    (npm / "migrations").mkdir(parents=True)
    (npm / "migrations" / "20300101000000123_utc.js").write_text("")  # node-pg-migrate's 17-digit UTC prefix
    utc_ms = int(datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp() * 1000) + 123
    assert _names(_laid("node-pg-migrate", npm, "add-index")[1])[0].startswith(f"{utc_ms + 1}_")
    (tmp_path / "package.json").write_text('{"type": "module"}')
    assert _names(_laid("knex", tmp_path, "add-index")[1])[0].endswith(".cjs")


def test_typeorm_class_and_transaction_switch(tmp_path):
    writer, laid = _laid("typeorm", tmp_path)
    files = {Path(j.rel).name: j.content for j in writer.jobs(laid, tmp_path)}
    index = next(text for name, text in files.items() if "BuildUniqueIndex" in name)
    assert "implements MigrationInterface" in index and "    transaction = false;\n" in index
    assert sum("transaction = false" in text for text in files.values()) == 2  # the backfill and the index


def test_knex_refuses_backslash_before_question_mark(tmp_path):
    raw = [{"op": "raw_sql", "up": "SELECT 'a\\?'", "down": "SELECT 1"}]
    plan = build_plan(parse_operations(raw), shop_schema(), SETTINGS, tool="knex")
    with pytest.raises(Exception, match="backslash directly before"):
        get_writer("knex").layout(plan, tmp_path, "migrations", NOW)


def test_drizzle_journal_and_manual_files(tmp_path):
    out = tmp_path / "drizzle"
    (out / "meta").mkdir(parents=True)
    (out / "0000_init.sql").write_text("SELECT 1;")
    later = int(NOW.timestamp() * 1000) + 10_000
    (out / "meta" / "_journal.json").write_text(json.dumps({"version": "7", "dialect": "postgresql", "entries": [
        {"idx": 0, "version": "6", "when": later, "tag": "0000_init", "breakpoints": True}]}))
    writer, laid = _laid("drizzle", tmp_path)
    ups = [Path(s.files[0]).name for s in db_steps(laid)]
    assert ups == sorted(ups)  # name order is run order, manual files included
    assert [s.title.startswith("by hand") for s in db_steps(laid)] == [not s.transactional for s in db_steps(laid)]
    assert ups[1].startswith("0002-01_manual_") and ups[2].startswith("0002-02_manual_") and ups[3].startswith("0002_")
    jobs = {j.rel: j for j in writer.jobs(laid, tmp_path, now=NOW)}
    journal = json.loads(jobs["drizzle/meta/_journal.json"].content)
    assert jobs["drizzle/meta/_journal.json"].replace
    new = journal["entries"][1:]
    assert [e["idx"] for e in new] == [1, 2, 3, 4, 5] and {e["version"] for e in new} == {"6"}
    assert [e["when"] for e in new] == list(range(later + 1, later + 6))
    assert all(f"drizzle/{e['tag']}.sql" in jobs for e in new)
    manual = jobs[db_steps(laid)[2].files[0]].content
    assert "psql" in manual and "after drizzle migration 0001_" in manual and "before 0002_" in manual
    assert "--> statement-breakpoint" in jobs[f"drizzle/{new[0]['tag']}.sql"].content
    (out / "meta" / "_journal.json").write_text(json.dumps({"entries": []}))
    with pytest.raises(Exception, match="journal changed"):
        writer.jobs(laid, tmp_path, now=NOW)
