"""The JavaScript migration tools (and dbmate) as the tests drive them: their npm packages, a minimal
tool project in a folder pointing at a test database, and the tool's own upgrade and rollback.
npm packages come from tests/node/node_modules, else $FLUX_NPM_DIR (default /tmp/flux-npm)/node_modules;
a tool whose packages are missing is skipped."""

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

from flux_agent.write.tools._js import statements
from shop import ROOT

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

    def round_trip(self, laid, state) -> None:
        """The steps of `laid` (those written) up, down and up again by the tool; `state(url)` (what the
        steps change) back where it was after the rollback, and as the first upgrade left it after the second."""
        before = state(self.url)
        self.upgrade(laid)
        applied = state(self.url)
        self.rollback(laid)
        assert state(self.url) == before
        self.upgrade(laid)
        assert state(self.url) == applied != before

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
