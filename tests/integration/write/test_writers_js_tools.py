"""The JS migration tools (and dbmate) run what our writers write.

For each tool and plan: a fresh database built from examples/shop, a minimal
tool project in tmp_path, the tool's own upgrade, its rollback of everything
we wrote, and the upgrade again, with the plan's effect checked each time.
npm packages come from tests/node/node_modules, else $FLUX_NPM_DIR
(default /tmp/flux-npm)/node_modules; a tool whose packages are missing is skipped.
Drizzle has no down migrations: its written `.down.sql` files are run with
psycopg the way psql runs them, and so are its manual (non-transactional) files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from cases import CASES
from flux_agent.plan.naming import index_name
from flux_agent.plan.planner import build_plan
from flux_agent.entry.actions import parse_operations
from flux_agent.write.tools import get_writer
from flux_agent.write.tools._js import statements
from shop import ROOT, SETTINGS, build_shop, live_indexes, shop_schema

NODE = shutil.which("node")
NPM_DIRS = [ROOT / "tests" / "node" / "node_modules",
            Path(os.environ.get("FLUX_NPM_DIR", "/tmp/flux-npm")) / "node_modules"]
PACKAGES = {
    "knex": ["knex", "pg"],
    "typeorm": ["typeorm", "pg", "ts-node", "typescript", "reflect-metadata"],
    "sequelize": ["sequelize", "sequelize-cli", "pg"],
    "node-pg-migrate": ["node-pg-migrate", "pg"],
    "drizzle": ["drizzle-kit", "drizzle-orm", "pg"],
    "dbmate": ["@dbmate/linux-x64"],
}
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
PLANS = {
    "add-nullable-column": (lambda c: "nickname" in _columns(c, "users"), True, False),
    "add-index": (lambda c: bool({"orders_user_id_idx", TYPEORM_INDEX} & set(live_indexes(c))), True, False),
    "backfill": (lambda c: c.execute("SELECT count(*) FROM orders WHERE status = 'pending'").fetchone()[0] == 0,
                 True, True),  # nothing to undo: the values stay
    "rename-column": (lambda c: sorted({"email", "email_address"} & _columns(c, "users")),
                      ["email_address"], ["email"]),
    "quoting": (_quoted, (QUOTED, True), None),
}
OPS = {cid: ops for cid, ops, _ in CASES} | {"quoting": QUOTING}


def modules(tool: str) -> Path:
    if not NODE:
        pytest.skip("node is not installed")
    for folder in NPM_DIRS:
        if all((folder / p / "package.json").is_file() for p in PACKAGES[tool]):
            return folder
    pytest.skip(f"{tool}: npm packages {', '.join(PACKAGES[tool])} not installed "
                f"(npm install --prefix tests/node, or set FLUX_NPM_DIR)")


def run(cmd, cwd: Path, env=None) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def db_params(url: str) -> dict:
    info = psycopg.conninfo.conninfo_to_dict(url)
    return {"host": info.get("host") or "localhost", "port": int(info.get("port") or 5432),
            "user": info.get("user") or "postgres", "password": info.get("password") or "",
            "database": info["dbname"]}


def node_url(d: dict) -> str:
    auth = f"{quote(d['user'], safe='')}:{quote(d['password'], safe='')}"
    if d["host"].startswith("/"):  # a unix socket folder
        return f"postgresql://{auth}@/{quote(d['database'])}?host={quote(d['host'])}&port={d['port']}"
    return f"postgresql://{auth}@{d['host']}:{d['port']}/{quote(d['database'])}"


def psql_file(url: str, path: Path, single_transaction: bool) -> None:
    """What `psql [-1] -v ON_ERROR_STOP=1 -f path` does: one statement at a time."""
    with psycopg.connect(url, autocommit=True) as conn:
        if single_transaction:
            with conn.transaction():
                for s in statements(path.read_text()):
                    conn.execute(s)
        else:
            for s in statements(path.read_text()):
                conn.execute(s)


class Project:
    """A minimal tool project in `root` pointing at the test database."""

    def __init__(self, tool: str, root: Path, url: str, nm: Path):
        self.tool, self.root, self.url, self.nm, self.db = tool, root, url, nm, db_params(url)
        (root / "node_modules").symlink_to(nm, target_is_directory=True)
        getattr(self, f"setup_{tool.replace('-', '_')}")()

    def node(self, *args, env=None):
        return run([NODE, *args], self.root, env)

    def setup_knex(self):
        conn = json.dumps({k: self.db[k] for k in ("host", "port", "user", "password", "database")})
        (self.root / "knexfile.js").write_text(
            f"module.exports = {{ client: 'pg', connection: {conn}, migrations: {{ directory: './migrations' }} }};\n")

    def setup_typeorm(self):
        d = self.db
        (self.root / "data-source.ts").write_text(
            'import "reflect-metadata";\nimport { DataSource } from "typeorm";\n'
            f'export default new DataSource({{ type: "postgres", host: {json.dumps(d["host"])}, port: {d["port"]},'
            f' username: {json.dumps(d["user"])}, password: {json.dumps(d["password"])},'
            f' database: {json.dumps(d["database"])}, migrations: [__dirname + "/migrations/*.ts"] }});\n')
        (self.root / "tsconfig.json").write_text(json.dumps({"compilerOptions": {
            "target": "es2021", "module": "commonjs", "strict": True, "esModuleInterop": True,
            "experimentalDecorators": True, "emitDecoratorMetadata": True, "skipLibCheck": True,
            "types": ["node"]}, "include": ["*.ts", "migrations/*.ts"]}))

    def setup_sequelize(self):
        d = self.db
        (self.root / "config").mkdir()
        (self.root / "config" / "config.json").write_text(json.dumps({"development": {
            "dialect": "postgres", "host": d["host"], "port": d["port"], "username": d["user"],
            "password": d["password"], "database": d["database"], "logging": False}}))

    def setup_node_pg_migrate(self):
        (self.root / "npm-config.json").write_text(json.dumps({"db": {**self.db}}))

    def setup_drizzle(self):
        d = self.db
        creds = {"url": node_url(d)}  # drizzle-kit refuses host/user/... with an empty password
        (self.root / "drizzle.config.ts").write_text(
            f'export default {{ dialect: "postgresql", out: "./drizzle", dbCredentials: {json.dumps(creds)} }};\n')
        # An earlier migration whose `when` lies ahead of the clock: ours must still sort after it,
        # or drizzle would skip them silently.
        (self.root / "drizzle" / "meta").mkdir(parents=True)
        (self.root / "drizzle" / "0000_baseline.sql").write_text("SELECT 1;\n")
        self.baseline_when = int(datetime.now(timezone.utc).timestamp() * 1000) + 86_400_000
        (self.root / "drizzle" / "meta" / "_journal.json").write_text(json.dumps({
            "version": "7", "dialect": "postgresql", "entries": [
                {"idx": 0, "version": "7", "when": self.baseline_when, "tag": "0000_baseline", "breakpoints": True}]}))
        self.drizzle_migrate()

    def setup_dbmate(self):
        pass

    def dbmate(self, *args):
        d = self.db
        host = "" if d["host"].startswith("/") else f"{d['host']}:{d['port']}"
        url = f"postgres://{d['user']}:{d['password']}@{host}/{d['database']}?sslmode=disable"
        if d["host"].startswith("/"):
            url += f"&socket={d['host']}"
        run([self.nm / "@dbmate/linux-x64/bin/dbmate", "--url", url, "--migrations-dir", "db/migrations",
             "--no-dump-schema", *args], self.root)

    def drizzle_migrate(self):
        self.node(self.nm / "drizzle-kit/bin.cjs", "migrate", "--config", "drizzle.config.ts")

    # -- running the tool ------------------------------------------------------------

    def check_syntax(self, written: list[Path]) -> None:
        if self.tool == "typeorm":
            self.node(self.nm / "typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json")
        elif self.tool in ("knex", "sequelize", "node-pg-migrate"):
            for path in written:
                self.node("--check", path)

    def upgrade(self, plan) -> None:
        t = self.tool
        if t == "knex":
            self.node(self.nm / "knex/bin/cli.js", "migrate:latest", "--knexfile", "knexfile.js")
        elif t == "typeorm":
            self.typeorm("migration:run")
        elif t == "sequelize":
            self.node(self.nm / "sequelize-cli/lib/sequelize", "db:migrate")
        elif t == "node-pg-migrate":
            self.node(self.nm / "node-pg-migrate/bin/node-pg-migrate.js", "up", "-f", "npm-config.json")
        elif t == "dbmate":
            self.dbmate("up")
        else:
            self.drizzle_in_phases(plan)

    def rollback(self, plan) -> None:
        t, n = self.tool, len(db_steps(plan))
        if t == "knex":
            self.node(self.nm / "knex/bin/cli.js", "migrate:rollback", "--all", "--knexfile", "knexfile.js")
        elif t == "node-pg-migrate":
            self.node(self.nm / "node-pg-migrate/bin/node-pg-migrate.js", "down", str(n), "-f", "npm-config.json")
        elif t == "drizzle":
            for step in reversed(db_steps(plan)):
                if len(step.files) > 1:  # the written down SQL, as psql would run it
                    psql_file(self.url, self.root / step.files[1], single_transaction=step.transactional)
        else:
            for _ in range(n):
                if t == "typeorm":
                    self.typeorm("migration:revert")
                elif t == "sequelize":
                    self.node(self.nm / "sequelize-cli/lib/sequelize", "db:migrate:undo")
                else:
                    self.dbmate("rollback")

    def typeorm(self, command: str) -> None:
        self.node(self.nm / "typeorm/cli-ts-node-commonjs.js", command, "-d", "data-source.ts",
                  "--transaction", "each", env={"TS_NODE_TRANSPILE_ONLY": "true"})

    def drizzle_in_phases(self, plan) -> None:
        """drizzle-kit migrate applies every pending journal entry: a manual file runs after
        the entries before it, so the journal is deployed up to there first."""
        journal_path = self.root / "drizzle" / "meta" / "_journal.json"
        full = journal_path.read_text()
        entries, before = json.loads(full)["entries"], 1  # the baseline
        try:
            for step in db_steps(plan):
                if step.transactional:
                    before += 1
                    continue
                journal_path.write_text(json.dumps({**json.loads(full), "entries": entries[:before]}))
                self.drizzle_migrate()
                psql_file(self.url, self.root / step.files[0], single_transaction=False)
        finally:
            journal_path.write_text(full)
        self.drizzle_migrate()

    def recorded(self) -> int:
        """Rows in the tool's own table of applied migrations."""
        table = {"knex": "knex_migrations", "typeorm": "migrations", "sequelize": '"SequelizeMeta"',
                 "node-pg-migrate": "pgmigrations", "dbmate": "schema_migrations",
                 "drizzle": "drizzle.__drizzle_migrations"}[self.tool]
        with psycopg.connect(self.url) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def db_steps(plan):
    return [s for s in plan.steps if s.phase != "code"]


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
    assert _names(_laid("knex", tmp_path, "add-index")[1]) == [f"20300101000001_{index}.js"]
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
