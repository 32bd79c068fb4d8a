"""New migration files follow the project's existing ones (issue 18, part 2): Sequelize's kebab-case
names, a JavaScript TypeORM project's `.js` classes, knex's and node-pg-migrate's `.ts` / `.mjs` /
`.cjs` / `.js` forms, and the prefix style (stamp, counter, milliseconds) of the folder's newest
file. The names are checked offline; then the real tool runs the written files (node tools under
tests/node, as in test_writers_js_tools.py), up and back down."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.naming import index_name
from flux_agent.plan.planner import build_plan
from flux_agent.write.tools import get_writer
from shop import SETTINGS, build_shop, live_indexes, shop_schema
from js_tools import NODE, Project, modules, run

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
INDEX = [{"op": "add_index", "table": "orders", "columns": ["user_id"]}]
SLUG = "build_index_orders_user_id_idx_on_orders_user_id"
KNEX_SLUG = SLUG.replace("_idx_", "_index_")  # knex names the index as its schema builder does (plan/naming.py)


def _project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def laid(tool: str, root: Path, ops=INDEX, now: datetime = NOW):
    writer = get_writer(tool)
    plan = build_plan(parse_operations(ops), shop_schema(), SETTINGS, tool=tool)
    return writer, writer.layout(plan, root, writer.default_dir, now)


def names(tool: str, root: Path, ops=INDEX) -> list[str]:
    _, plan = laid(tool, root, ops)
    return [Path(f).name for s in plan.steps if not s.is_code for f in s.files]


def content(tool: str, root: Path) -> str:
    writer, plan = laid(tool, root)
    return writer.jobs(plan, root)[0].content


# -- names, offline --------------------------------------------------------------------------------------

def test_sequelize_kebab_case_follows_the_folder(tmp_path):
    kebab = _project(tmp_path / "k", {"migrations/20240101000000-create-users.js": ""})
    assert names("sequelize", kebab) == [f"20250304050607-{SLUG.replace('_', '-')}.js"]
    snake = _project(tmp_path / "s", {"migrations/20240101000000-create_users.js": ""})
    assert names("sequelize", snake) == [f"20250304050607-{SLUG}.js"]
    assert names("sequelize", tmp_path / "empty") == [f"20250304050607-{SLUG}.js"]  # as before
    counted = _project(tmp_path / "c", {"migrations/001-init.js": "", "migrations/002-add-users.js": ""})
    assert names("sequelize", counted) == [f"003-{SLUG.replace('_', '-')}.js"]
    later = _project(tmp_path / "l", {"migrations/20300101000000-init.js": ""})
    assert names("sequelize", later)[0].startswith("20300101000001-")


def test_typeorm_javascript_projects_get_js(tmp_path):
    js = _project(tmp_path / "js", {"package.json": "{}", "migrations/1700000000000-Init.js": ""})
    [name] = names("typeorm", js)
    assert re.fullmatch(r"\d{13}-BuildIndexOnOrdersUserId\.js", name)  # TypeORM's IDX_<hash> left out of it
    text = content("typeorm", js)
    assert "module.exports = class BuildIndexOnOrdersUserId" in text
    assert "implements MigrationInterface" not in text and ": QueryRunner" not in text
    no_tsconfig = _project(tmp_path / "plain", {"package.json": "{}"})
    assert names("typeorm", no_tsconfig)[0].endswith(".js")
    esm = _project(tmp_path / "esm", {"package.json": '{"type": "module"}'})
    assert names("typeorm", esm)[0].endswith(".js") and "\nexport class " in content("typeorm", esm)
    ts = _project(tmp_path / "ts", {"package.json": "{}", "tsconfig.json": "{}"})
    assert names("typeorm", ts)[0].endswith(".ts") and "implements MigrationInterface" in content("typeorm", ts)
    # migrations already in TypeScript win over a missing tsconfig.json
    ts_files = _project(tmp_path / "tsf", {"package.json": "{}", "migrations/1700000000000-Init.ts": ""})
    assert names("typeorm", ts_files)[0].endswith(".ts")
    assert names("typeorm", tmp_path / "nothing")[0].endswith(".ts")  # no package.json at all: as before


@pytest.mark.parametrize("tool", ["knex", "node-pg-migrate"])
def test_knex_and_node_pg_migrate_follow_the_extension(tmp_path, tool):
    first = "20240101000000_init" if tool == "knex" else "1700000000000_init"
    for ext, esm, typed in ((".ts", True, True), (".mjs", True, False), (".cjs", False, False), (".js", False, False)):
        root = _project(tmp_path / ext[1:], {f"migrations/{first}{ext}": ""})
        assert names(tool, root)[0].endswith(ext), ext
        text = content(tool, root)
        assert ("export async function up" in text or "export function up" in text) == esm, ext
        assert ("exports.up" in text) == (not esm), ext
        assert (": Promise<void>" in text or ": void" in text) == typed, ext
    # an ES-module package: `.cjs` with exports (runs whatever the knexfile does), as before
    esm_pkg = _project(tmp_path / "esm", {"package.json": '{"type": "module"}', f"migrations/{first}.js": ""})
    assert names(tool, esm_pkg)[0].endswith(".cjs") and "exports.up" in content(tool, esm_pkg)


def test_prefix_style_of_the_newest_file(tmp_path):
    counted = _project(tmp_path / "n", {"migrations/0007_init.js": "", "migrations/0008_more.js": ""})
    assert names("knex", counted) == [f"0009_{KNEX_SLUG}.js"]
    assert names("node-pg-migrate", counted) == [f"0009_{SLUG}.js"]
    kebab = _project(tmp_path / "kebab", {"migrations/20240101000000-create-users.js": ""})
    assert names("knex", kebab) == [f"20250304050607-{KNEX_SLUG.replace('_', '-')}.js"]
    ms = _project(tmp_path / "ms", {"migrations/1900000000000_init.js": ""})
    assert names("knex", ms) == [f"1900000000001_{KNEX_SLUG}.js"]
    stamps = _project(tmp_path / "st", {"migrations/20300101000000_init.js": ""})
    assert names("node-pg-migrate", stamps) == [f"20300101000001_{SLUG}.js"]
    two = [{"op": "add_column", "table": "users", "column": "nick", "type": "text"},
           {"op": "add_index", "table": "users", "columns": ["nick"]}]
    got = names("knex", counted, two)
    assert [n[:5] for n in got] == ["0009_", "0010_"]


# -- the real tools run what was written -------------------------------------------------------------------

def _written(tool: str, root: Path) -> list[Path]:
    writer, plan = laid(tool, root, now=datetime.now(timezone.utc))
    return writer.write(plan, root)


def _index(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:  # PostgreSQL's name, or TypeORM's (plan/naming.py)
        return bool({"orders_user_id_idx", index_name("typeorm", "orders", ["user_id"]),
                     index_name("knex", "orders", ["user_id"])} & set(live_indexes(conn)))


def _fresh(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        build_shop(conn)


RUNS = ["knex-ts", "knex-mjs", "knex-counted", "node-pg-migrate-mjs", "node-pg-migrate-ts", "sequelize-kebab", "typeorm-js",
        "typeorm-esm"]


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.parametrize("case", RUNS)
def test_real_tool_runs_the_written_files(case, pg_url, tmp_path):
    tool = case.rsplit("-", 1)[0]
    nm = modules(tool)
    _fresh(pg_url)
    root = tmp_path / "project"
    root.mkdir()
    project = Project(tool, root, pg_url, nm)
    db = project.db
    conn = json.dumps({k: db[k] for k in ("host", "port", "user", "password", "database")})
    mig = root / "migrations"
    mig.mkdir(exist_ok=True)
    if case == "knex-ts":
        (mig / "20240101000000_init.ts").write_text("export async function up() {}\nexport async function down() {}\n")
        (root / "knexfile.ts").write_text(f"export default {{ client: 'pg', connection: {conn}, "
                                          "migrations: { directory: './migrations', extension: 'ts' } };\n")
        (root / "knexfile.js").unlink()
        (root / "tsconfig.json").write_text(json.dumps({"compilerOptions": {
            "target": "es2021", "module": "commonjs", "esModuleInterop": True, "skipLibCheck": True,
            "types": ["node"]}}))
        up = [nm / "knex/bin/cli.js", "migrate:latest", "--knexfile", "knexfile.ts"]
        down = [nm / "knex/bin/cli.js", "migrate:rollback", "--all", "--knexfile", "knexfile.ts"]
    elif case in ("knex-mjs", "knex-counted"):
        ext = ".mjs" if case == "knex-mjs" else ".js"
        first = "20240101000000_init" if case == "knex-mjs" else "0001_init"
        body = ("export async function up() {}\nexport async function down() {}\n" if ext == ".mjs"
                else "exports.up = async () => {};\nexports.down = async () => {};\n")
        (mig / f"{first}{ext}").write_text(body)
        (root / "knexfile.js").write_text(
            f"module.exports = {{ client: 'pg', connection: {conn}, migrations: {{ directory: './migrations', "
            "loadExtensions: ['.js', '.mjs', '.cjs'] } };\n")
        up = [nm / "knex/bin/cli.js", "migrate:latest", "--knexfile", "knexfile.js"]
        down = [nm / "knex/bin/cli.js", "migrate:rollback", "--all", "--knexfile", "knexfile.js"]
    elif case in ("node-pg-migrate-mjs", "node-pg-migrate-ts"):
        ext = ".mjs" if case.endswith("mjs") else ".ts"
        (mig / f"1700000000000_init{ext}").write_text("export const up = () => {};\nexport const down = () => {};\n")
        up = [nm / "node-pg-migrate/bin/node-pg-migrate.js", "up", "-f", "npm-config.json"]
        down = [nm / "node-pg-migrate/bin/node-pg-migrate.js", "down", "1", "-f", "npm-config.json"]
    elif case == "sequelize-kebab":
        (mig / "20240101000000-create-nothing.js").write_text(
            "module.exports = { async up() {}, async down() {} };\n")
        up = [nm / "sequelize-cli/lib/sequelize", "db:migrate"]
        down = [nm / "sequelize-cli/lib/sequelize", "db:migrate:undo"]
    else:  # a JavaScript TypeORM project: data-source.js, no tsconfig.json
        esm = case == "typeorm-esm"
        (root / "data-source.ts").unlink()
        (root / "tsconfig.json").unlink()
        (root / "package.json").write_text(json.dumps({"name": "app", "private": True,
                                                       **({"type": "module"} if esm else {})}))
        options = (f'type: "postgres", host: {json.dumps(db["host"])}, port: {db["port"]}, '
                   f'username: {json.dumps(db["user"])}, password: {json.dumps(db["password"])}, '
                   f'database: {json.dumps(db["database"])}, migrations: ["migrations/*.js"]')
        (root / "data-source.js").write_text(
            f'import {{ DataSource }} from "typeorm";\nexport default new DataSource({{ {options} }});\n' if esm else
            f'const {{ DataSource }} = require("typeorm");\nmodule.exports = {{ default: new DataSource({{ {options} }}) }};\n')
        cli = [nm / "typeorm/cli.js"]
        up = cli + ["migration:run", "-d", "data-source.js", "--transaction", "each"]
        down = cli + ["migration:revert", "-d", "data-source.js"]
    written = _written(tool, root)
    assert written
    rel = [p.relative_to(root).as_posix() for p in written]
    if case == "knex-ts":
        assert rel[0].endswith(".ts")
        run([NODE, nm / "typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json"], root)
    elif case == "knex-mjs":
        assert rel[0].endswith(".mjs")
    elif case == "knex-counted":
        assert rel == [f"migrations/0002_{KNEX_SLUG}.js"]
    elif tool == "node-pg-migrate":
        assert rel[0].endswith(case.rsplit("-", 1)[1])
    elif case == "sequelize-kebab":
        assert rel[0].startswith("migrations/") and "-build-index-orders-user-id-idx" in rel[0]
    else:
        assert rel[0].endswith(".js") and "implements MigrationInterface" not in written[0].read_text()
    for path in written:
        if path.suffix in (".js", ".mjs", ".cjs"):
            project.node("--check", path)
    env = {"TS_NODE_TRANSPILE_ONLY": "true"}
    project.node(*up, env=env)
    assert _index(pg_url)
    project.node(*down, env=env)
    assert not _index(pg_url)
    project.node(*up, env=env)
    assert _index(pg_url)
