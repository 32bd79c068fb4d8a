"""Knex, TypeORM, Sequelize and node-pg-migrate migrations judged by `flux validate` with the
rules SQL is judged by: each file read by running it with the project's own installed tool on a
scratch copy of the dev database as the migrations before it leave it (lint/readers/_node.py),
the statements it sends each at the line of the file that sent it, the transaction mode as the
tool ran it.

Each project is a small one in tmp_path (test_program_node.make_project: the first migration
makes users, orders and products), with one unsafe and one safe migration in the tool's own API.
The rule ids expected of an unsafe one are those its SQL twin draws from lint_sql.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flux_agent.lint.context import FileContext
from flux_agent.lint.engine import lint_sql, validate_file
from flux_agent.lint.readers import reader_for
from flux_agent.model.settings import Settings
from tests.integration.devdb.test_program_node import make_project
from js_tools import modules

pytestmark = [pytest.mark.pg, pytest.mark.node, pytest.mark.slow]

# tool -> (unsafe file, its text, the line that sends it, its SQL twin, transactional),
#         (safe file, its text, its SQL twin, transactional). Sequelize cannot say IF NOT EXISTS
# to addIndex: its safe one draws the warning its SQL twin draws (prefer-robust-stmts), no error.
CASES = {
    "knex": (
        ("migrations/20250102000000_email_index.js", """exports.up = async function (knex) {
  await knex.schema.alterTable('users', (table) => {
    table.index(['email']);
  });
};
exports.down = async function (knex) {
  await knex.schema.alterTable('users', (table) => { table.dropIndex(['email']); });
};
""", 2, "CREATE INDEX users_email_index ON users (email);", True),
        ("migrations/20250102000000_email_index.js", """exports.config = { transaction: false };

exports.up = async function (knex) {
  await knex.raw("SET lock_timeout = '1s'");
  await knex.raw('SET statement_timeout = 0');
  await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_index ON users (email)');
};
exports.down = async function (knex) {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS users_email_index');
};
""", ("SET lock_timeout = '1s';\nSET statement_timeout = 0;\n"
             "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_index ON users (email);"), False),
    ),
    "typeorm": (
        ("migrations/1735776000000-Score.ts", """import { MigrationInterface, QueryRunner } from "typeorm";

export class Score1735776000000 implements MigrationInterface {
    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE users ADD COLUMN score int NOT NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE users DROP COLUMN score`);
    }
}
""", 5, "ALTER TABLE users ADD COLUMN score int NOT NULL;", True),
        ("migrations/1735776000000-Score.ts", """import { MigrationInterface, QueryRunner } from "typeorm";

export class Score1735776000000 implements MigrationInterface {
    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`SET LOCAL lock_timeout = '1s'`);
        await queryRunner.query(`SET LOCAL statement_timeout = '5s'`);
        await queryRunner.query(`ALTER TABLE users ADD COLUMN score bigint`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE users DROP COLUMN score`);
    }
}
""", ("SET LOCAL lock_timeout = '1s';\nSET LOCAL statement_timeout = '5s';\n"
             "ALTER TABLE users ADD COLUMN score bigint;"), True),
    ),
    "sequelize": (
        ("migrations/20250102000000-status-index.js", """'use strict';
module.exports = {
  async up(queryInterface) {
    await queryInterface.addIndex('orders', ['status'], { name: 'orders_status_idx' });
  },
  async down(queryInterface) {
    await queryInterface.removeIndex('orders', 'orders_status_idx');
  },
};
""", 4, "CREATE INDEX orders_status_idx ON orders (status);", False),
        ("migrations/20250102000000-status-index.js", """'use strict';
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query("SET lock_timeout = '1s'");
    await queryInterface.sequelize.query('SET statement_timeout = 0');
    await queryInterface.addIndex('orders', ['status'], { name: 'orders_status_idx', concurrently: true });
  },
  async down(queryInterface) {
    await queryInterface.removeIndex('orders', 'orders_status_idx');
  },
};
""", ("SET lock_timeout = '1s';\nSET statement_timeout = 0;\n"
             "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);"), False),
    ),
    "node-pg-migrate": (
        ("migrations/1735776000000_status-index.js", """exports.up = (pgm) => {
  pgm.createIndex('orders', 'status', { name: 'orders_status_idx' });
};
exports.down = (pgm) => {
  pgm.dropIndex('orders', 'status', { name: 'orders_status_idx' });
};
""", 2, "CREATE INDEX orders_status_idx ON orders (status);", True),
        ("migrations/1735776000000_status-index.js", """exports.up = (pgm) => {
  pgm.noTransaction();
  pgm.sql("SET lock_timeout = '1s'");
  pgm.sql('SET statement_timeout = 0');
  pgm.createIndex('orders', 'status', { name: 'orders_status_idx', concurrently: true, ifNotExists: true });
};
exports.down = (pgm) => {
  pgm.noTransaction();
  pgm.dropIndex('orders', 'status', { name: 'orders_status_idx', concurrently: true });
};
""", ("SET lock_timeout = '1s';\nSET statement_timeout = 0;\n"
             "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);"), False),
    ),
}

TOOLS = list(CASES)


def twin_rules(sql: str, transactional: bool) -> set[str]:
    """The rule ids the SQL twin of a migration draws (errors and warnings alike)."""
    ctx = FileContext.for_settings(Settings(), path="twin.sql", transactional=transactional)
    return {f.rule for f in lint_sql(sql, ctx)}


def project(tool: str, root: Path) -> Path:
    # The config names a database that does not exist: only the dev database is ever used.
    make_project(tool, root, "host=/nowhere dbname=none user=u", modules(tool))
    return root


def judged(file: Path, root: Path, tool: str):
    text = file.read_text()
    reader = reader_for(file, text, tool)
    assert reader is not None and reader.tool == tool, f"{file.name} not claimed by the {tool} reader"
    return validate_file(file, Settings(), display=file.name, project=root, tool=tool)


@pytest.mark.parametrize("tool", TOOLS)
def test_unsafe_flagged_at_its_line_and_safe_clean(tool, tmp_path):
    (rel, text, line, twin, transactional), (_, safe_text, safe_twin, safe_tx) = CASES[tool]
    root = project(tool, tmp_path / "app")
    file = root / rel
    file.write_text(text)
    expected = twin_rules(twin, transactional)
    assert expected, f"the SQL twin {twin!r} draws nothing: the case proves nothing"

    started = time.perf_counter()
    found = judged(file, root, tool)
    cold = time.perf_counter() - started
    got = {f.rule for f in found}
    assert got == expected, (found, expected)
    assert {f.line for f in found} == {line}, found

    started = time.perf_counter()
    assert {f.rule for f in judged(file, root, tool)} == expected  # the file unchanged: the same
    warm = time.perf_counter() - started
    print(f"{tool}: reading one migration {cold:.2f} s cold, {warm:.2f} s with the dev database cached")

    file.write_text(safe_text)  # the migrations before it unchanged: their database is reused
    started = time.perf_counter()
    clean = judged(file, root, tool)
    print(f"{tool}: the safe one {time.perf_counter() - started:.2f} s")
    assert {f.rule for f in clean} == twin_rules(safe_twin, safe_tx), clean
    assert not [f for f in clean if f.severity == "error"], clean
    if tool != "sequelize":
        assert clean == [], clean


def test_the_read_keeps_the_tools_transaction_mode(tmp_path):
    from flux_agent.lint.readers import _node

    root = project("knex", tmp_path / "app")
    (rel, text, *_), (_, safe_text, *_) = CASES["knex"]
    file = root / rel
    file.write_text(text)
    read = reader_for(file, text, "knex").read(file, text, root)
    assert read.transactional and not read.unread
    assert [(p.line, p.sql) for p in read.up] == [(2, 'create index "users_email_index" on "users" ("email")')]
    file.write_text(safe_text)
    read = reader_for(file, safe_text, "knex").read(file, safe_text, root)
    assert not read.transactional and not read.unread and [p.line for p in read.up] == [4, 5, 6]
    assert _node.judge([], 1) == ([], False)


def test_a_failing_migration_is_not_analysed_at_its_line(tmp_path):
    root = project("knex", tmp_path / "app")
    file = root / "migrations" / "20250102000000_broken.js"
    file.write_text("exports.up = async function (knex) {\n"
                    "  await knex.raw('CREATE INDEX users_email_idx ON users (email)');\n"
                    "  await knex.raw('ALTER TABLE nowhere ADD COLUMN x int');\n};\n"
                    "exports.down = async function () {};\n")
    found = judged(file, root, "knex")
    unread = [f for f in found if f.rule == "not-analysed"]
    assert len(unread) == 1 and unread[0].line == 3, found
    # what it sent before failing is judged still
    assert ("require-concurrent-index-creation", 2) in {(f.rule, f.line) for f in found}, found
    assert 'relation "nowhere" does not exist' in unread[0].message and "\n" not in unread[0].message


def test_a_migration_after_one_failing_without_a_database_error_is_still_judged(tmp_path):
    """The migrations before the file run as `flux schema` runs them: one that fails without a
    database error (a script of the app's build) is left out, not a reason to judge nothing."""
    root = project("knex", tmp_path / "app")
    (root / "migrations" / "20250101500000_data_script.js").write_text(
        "exports.up = async function () { throw new Error('build/scripts/fill.js is not built'); };\n"
        "exports.down = async function () {};\n")
    (rel, text, line, twin, transactional), _ = CASES["knex"]
    file = root / rel
    file.write_text(text)
    found = judged(file, root, "knex")
    assert {f.rule for f in found} == twin_rules(twin, transactional), found


def test_a_migration_is_judged_against_the_database_it_ran_on(tmp_path):
    """sequelize's changeColumn sends SET NOT NULL, DROP DEFAULT and TYPE whatever the column was
    (outline's increase-url-column-lengths): judged without a schema, each was an error (a scan,
    a dropped default, a rewrite of unknown cost); judged against the schema the migrations before
    it made, read from the dev database they ran on, none is: the column was text NOT NULL with
    no default already."""
    root = project("sequelize", tmp_path / "app")
    file = root / "migrations" / "20250102000000-email-again.js"
    file.write_text("module.exports = {\n  async up(queryInterface, Sequelize) {\n"
                    "    await queryInterface.changeColumn('users', 'email', { type: Sequelize.TEXT, allowNull: false });\n"
                    "  },\n  async down() {},\n};\n")
    text = file.read_text()
    read = reader_for(file, text, "sequelize").read(file, text, root)
    sent = " ".join(p.sql for p in read.up)
    assert "SET NOT NULL" in sent and "DROP DEFAULT" in sent and "TYPE TEXT" in sent, sent
    email = read.schema_before.table("users").column("email")
    assert (email.type, email.nullable, email.default) == ("text", False, None)

    blind = {f.rule for f in lint_sql(";\n".join(p.sql for p in read.up),
                                      FileContext.for_settings(Settings(), path="x.sql", transactional=False))}
    assert {"adding-not-nullable-field", "ban-drop-default", "changing-column-type"} <= blind, blind
    found = {f.rule for f in judged(file, root, "sequelize")}
    assert not found & {"adding-not-nullable-field", "ban-drop-default", "changing-column-type"}, found


def test_no_tool_installed_is_not_analysed_never_a_pass(tmp_path):
    root = tmp_path / "app"
    make_project("knex", root, "host=/nowhere dbname=none user=u", modules("knex"), link=False)
    file = root / CASES["knex"][0][0]
    file.write_text(CASES["knex"][0][1])
    found = judged(file, root, "knex")
    assert [(f.rule, f.line) for f in found] == [("not-analysed", 1)], found
    assert "knex is not installed" in found[0].message


def test_flux_validate_a_folder_through_the_cli(tmp_path):
    root = project("node-pg-migrate", tmp_path / "app")
    (rel, text, line, twin, transactional), _ = CASES["node-pg-migrate"]
    (root / rel).write_text(text)
    done = subprocess.run([sys.executable, "-m", "flux_agent", "validate", str(root / "migrations"),
                           "--project", str(root)], check=False, capture_output=True, text=True, timeout=600)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    name = Path(rel).name
    flagged = {(int(l.split(f"{name}:")[1].split(":")[0]), l.split(": ")[1].split()[1])
               for l in out.splitlines() if f"{name}:" in l}
    assert flagged == {(line, rule) for rule in twin_rules(twin, transactional)}, out
    assert "not-analysed" not in out and "2 file(s) checked" in out, out


@pytest.mark.parametrize("tool", TOOLS)
def test_each_file_is_claimed_by_its_tools_reader_alone(tool):
    from flux_agent.lint.readers import READERS
    from tests.integration.devdb.test_program_node import INIT

    for text in (CASES[tool][0][1], CASES[tool][1][1], INIT[tool][1]):
        assert [r.tool for r in READERS if r.claims(text)] == [tool], text


STEPS = [("a", "ALTER TABLE users ADD COLUMN a int"), ("b", "CREATE INDEX users_a_idx ON users (a)"),
         ("c", "ALTER TABLE users ADD COLUMN c int NOT NULL")]
LOGGED = {  # a migration that notes each run of it in ran.log, then sends its SQL
    "knex": ("migrations/2025010200000%(i)d_%(name)s.js", """const fs = require('fs'); // %(token)s
exports.up = async function (knex) {
  fs.appendFileSync(__dirname + '/../ran.log', '%(name)s\\n');
  await knex.raw(`%(sql)s`);
};
exports.down = async function () {};
"""),
    "sequelize": ("migrations/2025010200000%(i)d-%(name)s.js", """const fs = require('fs'); // %(token)s
module.exports = {
  async up(queryInterface) {
    fs.appendFileSync(__dirname + '/../ran.log', '%(name)s\\n');
    await queryInterface.sequelize.query(`%(sql)s`);
  },
  async down() {},
};
"""),
    "node-pg-migrate": ("migrations/173577600%(i)d000_%(name)s.js", """const fs = require('fs'); // %(token)s
exports.up = (pgm) => {
  fs.appendFileSync(__dirname + '/../ran.log', '%(name)s\\n');
  pgm.sql(`%(sql)s`);
};
exports.down = () => {};
"""),
    "typeorm": ("migrations/173577600%(i)d000-%(name)s.ts", """import * as fs from "fs"; // %(token)s
import { MigrationInterface, QueryRunner } from "typeorm";

export class Step173577600%(i)d000 implements MigrationInterface {
    public async up(queryRunner: QueryRunner): Promise<void> {
        fs.appendFileSync(__dirname + "/../ran.log", "%(name)s\\n");
        await queryRunner.query(`%(sql)s`);
    }

    public async down(): Promise<void> {}
}
"""),
}


@pytest.mark.parametrize("tool", ["knex", "sequelize", "typeorm"])
def test_a_folder_builds_each_database_before_a_file_from_the_one_before_it(tool, tmp_path, monkeypatch):
    """Validating a folder, the database before each file is a copy of the one built before the
    file that precedes it, the tool running only the migration between: each migration runs
    twice (before the next file, and read itself), not once per file after it, and the findings
    are those of building each database whole."""
    from flux_agent.devdb import before_file
    from flux_agent.entry.validate import validate_paths
    from flux_agent.lint.readers import _node_batch

    monkeypatch.setattr(_node_batch, "BATCH_TOOLS", ())  # each file read alone (the batch: below)

    def run(name: str, token: str):
        root = project(tool, tmp_path / name)
        pattern, body = LOGGED[tool]
        for i, (step, sql) in enumerate(STEPS):
            (root / (pattern % {"i": i, "name": step})).write_text(
                body % {"i": i, "name": step, "sql": sql, "token": token})
        _, found = validate_paths([root / "migrations"], project_dir=str(root), tool=tool)
        ran = (root / "ran.log").read_text().split()
        return ran, sorted((Path(f.path).name.split(step_sep[tool])[-1], f.line, f.rule) for f in found)

    step_sep = {"knex": "_", "sequelize": "-", "typeorm": "-"}
    ran, found = run("copied", "copied")
    assert sorted(ran) == ["a", "a", "b", "b", "c"], ran
    assert {rule for *_, rule in found} >= {"require-concurrent-index-creation"}, found
    assert not [f for f in found if f[2] == "not-analysed"], found

    monkeypatch.setattr(before_file, "runs_before", lambda *names: False)  # each database built whole, as before
    ran_whole, found_whole = run("whole", "whole")
    assert sorted(ran_whole) == ["a", "a", "a", "b", "b", "c"], ran_whole
    assert found_whole == found


def test_a_typeorm_copy_holding_a_later_migration_is_refused_and_the_database_built_whole(tmp_path):
    """TypeORM runs its migrations in the order of their classes' timestamps: here the file named
    first runs last. The database copied from before it holds the other one already; the driver
    refuses the copy, and the database before that file is built whole: the findings are those of
    each file judged against the migrations TypeORM runs before it."""
    from flux_agent.entry.validate import validate_paths

    root = project("typeorm", tmp_path / "app")
    body = LOGGED["typeorm"][1]
    (root / "migrations" / "1735776001000-x-first.ts").write_text(
        body.replace("Step173577600%(i)d000", "Late1735776009000") % {"name": "late", "token": "t",
                                                                      "sql": "CREATE INDEX late_idx ON users (email)"})
    (root / "migrations" / "1735776002000-y-second.ts").write_text(
        body.replace("Step173577600%(i)d000", "Early1735776001000") % {"name": "early", "token": "t",
                                                                       "sql": "ALTER TABLE users ADD COLUMN early int"})
    _, found = validate_paths([root / "migrations"], project_dir=str(root), tool="typeorm")
    assert not [f for f in found if f.rule == "not-analysed"], found
    late = {f.rule for f in found if "x-first" in f.path}
    early = {f.rule for f in found if "y-second" in f.path}  # judged on a copy holding it, it would send nothing
    assert "require-concurrent-index-creation" in late and "require-lock-timeout" in early, found


def test_a_file_judged_again_unchanged_is_read_without_its_tool(tmp_path, monkeypatch):
    """What a file sent is kept by the key of the database before it and the file's bytes: validating
    it again does not run the tool (nestjs-boilerplate: 0.9 s a TypeORM file, every run); a change
    to the file, or to the migrations before it, runs it again."""
    from flux_agent.devdb import before_file as places

    (rel, text, line, twin, transactional), _ = CASES["knex"]
    root = project("knex", tmp_path / "app")
    file = root / rel
    file.write_text(text)
    first = judged(file, root, "knex")
    assert first

    def no_run(*args, **kwargs):
        raise AssertionError("the tool ran again")
    with monkeypatch.context() as m:
        m.setattr(places, "before_file", no_run)
        assert judged(file, root, "knex") == first
        file.write_text(text + "\n// changed\n")
        with pytest.raises(AssertionError, match="ran again"):
            judged(file, root, "knex")


def test_typeorm_0_3_12_is_read_without_hanging(tmp_path, monkeypatch):
    """jellyseerr pins TypeORM 0.3.12, whose MigrationExecutor without a query runner releases its own
    before connecting: ds.destroy() then spun until the 300 s timeout, and every file was not analysed.
    tests/node installs 0.3.12 beside the current release (npm alias typeorm-0.3.12)."""
    from flux_agent.devdb.runners import _node
    from tests.integration.devdb.test_program_node import make_project

    nm = modules("typeorm")
    old = nm / "typeorm-0.3.12"
    if not (old / "package.json").is_file():
        pytest.skip("typeorm 0.3.12 is not installed (npm install --prefix tests/node)")
    root = tmp_path / "app"
    make_project("typeorm", root, "host=/nowhere dbname=none user=u", nm, link=False)
    (root / "node_modules").mkdir()
    for entry in nm.iterdir():  # the project's node_modules: tests/node's, with TypeORM 0.3.12 as typeorm
        if entry.name not in ("typeorm", "typeorm-0.3.12", ".bin"):
            (root / "node_modules" / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    (root / "node_modules" / "typeorm").symlink_to(old, target_is_directory=True)
    monkeypatch.setattr(_node, "TIMEOUT_S", 60)  # a hang fails in a minute, not five
    (rel, text, line, twin, transactional), _ = CASES["typeorm"]
    file = root / rel
    file.write_text(text)
    found = judged(file, root, "typeorm")
    assert {f.rule for f in found} == twin_rules(twin, transactional) and {f.line for f in found} == {line}, found


@pytest.mark.parametrize("tool", ["knex", "typeorm", "sequelize"])
def test_a_renamed_migrations_table_is_the_tool_s_own(tool, tmp_path):
    """Infisical's knexfile names its table infisical_migrations: knex's UPDATE of its lock, sent with no
    line of the file, was judged the migration's own (unbatched-data-change and destructive-outside-contract
    on every file, 387 false errors). TypeORM's migrationsTableName the same."""
    root = project(tool, tmp_path / "app")
    if tool == "knex":
        config = root / "knexfile.js"
        config.write_text(config.read_text().replace("migrations: { directory: './migrations' }",
                                                     "migrations: { directory: './migrations', tableName: 'acme_migrations' }"))
        assert "acme_migrations" in config.read_text()
    elif tool == "typeorm":
        config = root / "data-source.ts"
        config.write_text(config.read_text().replace("migrations: [", 'migrationsTableName: "acme_migrations", migrations: ['))
        assert "acme_migrations" in config.read_text()
    else:
        config = root / "config" / "config.json"
        settings = json.loads(config.read_text())
        settings["development"]["migrationStorageTableName"] = "acme_migrations"
        config.write_text(json.dumps(settings))
    (rel, _, _, _, _), (_, safe_text, safe_twin, safe_tx) = CASES[tool]
    file = root / rel
    file.write_text(safe_text)
    assert {f.rule for f in judged(file, root, tool)} == twin_rules(safe_twin, safe_tx)  # its SQL twin's alone


def _logged_folder(tool: str, root: Path, steps: list[tuple[str, str]], token: str = "t") -> Path:
    root = project(tool, root)
    pattern, body = LOGGED[tool]
    for i, (step, sql) in enumerate(steps):
        (root / (pattern % {"i": i, "name": step})).write_text(body % {"i": i, "name": step, "sql": sql, "token": token})
    return root


def _found(tool: str, root: Path) -> tuple[list[str], list[tuple]]:
    from flux_agent.entry.validate import validate_paths

    _, found = validate_paths([root / "migrations"], project_dir=str(root), tool=tool)
    ran = (root / "ran.log").read_text().split()
    return ran, sorted((re.split(r"[-_]", Path(f.path).name, maxsplit=1)[-1], f.line, f.rule, f.message)
                       for f in found)


@pytest.mark.parametrize("tool", ["knex", "typeorm", "sequelize", "node-pg-migrate"])
def test_a_folder_is_read_in_one_run_of_its_tool(tool, tmp_path, monkeypatch):
    """The files of a folder are read in one node process (lint/readers/_node_batch.py): each
    migration runs once, not twice, and every finding is the one reading each file alone gives,
    each file judged against the schema the migrations before it made (b's index on a column a
    made; c's NOT NULL column on a table b indexed)."""
    from flux_agent.lint.readers import _node_batch

    ran, found = _found(tool, _logged_folder(tool, tmp_path / "batched", STEPS, "batched"))
    assert ran == ["a", "b", "c"], ran
    assert {"require-concurrent-index-creation", "adding-required-field"} <= {f[2] for f in found}, found
    assert not [f for f in found if f[2] == "not-analysed"], found

    monkeypatch.setattr(_node_batch, "BATCH_TOOLS", ())
    ran_alone, found_alone = _found(tool, _logged_folder(tool, tmp_path / "alone", STEPS, "alone"))
    # each migration run before the next file's read and for its own (node-pg-migrate's databases built whole)
    assert sorted(ran_alone) == (["a", "a", "b", "b", "c"] if tool != "node-pg-migrate" else
                                 ["a", "a", "a", "b", "b", "c"]), ran_alone
    assert found == found_alone

    # What each file met: the schema before it, as the batch read it between the files.
    root = tmp_path / "batched"
    files = sorted((root / "migrations").glob("*"))[1:]  # (the first makes the tables)
    met = []
    for file in files:
        text = file.read_text()
        read = reader_for(file, text, tool).read(file, text, root)
        met.append(sorted(c.name for c in read.schema_before.table("users").columns))
    assert [("a" in m, "c" in m) for m in met] == [(False, False), (True, False), (True, False)], met


@pytest.mark.parametrize("tool", ["knex", "typeorm", "sequelize", "node-pg-migrate"])
def test_a_file_failing_in_a_batch_is_read_alone_as_before(tool, tmp_path, monkeypatch):
    """b fails in PostgreSQL: the batch stops there, keeping a's capture; b and c are read alone, which
    says b is not analysed at its line and c not run; the findings those of reading each file alone."""
    from flux_agent.lint.readers import _node_batch

    steps = [STEPS[0], ("b", "ALTER TABLE nowhere ADD COLUMN b int"), STEPS[2]]
    root = _logged_folder(tool, tmp_path / "batched", steps, "batched").resolve()
    files = sorted((root / "migrations").glob("*"))
    delivered = _node_batch.batch(tool, root, files)
    assert [f.name for f in delivered] == [f.name for f in files[:2]]  # the first (the tables) and a
    _, found = _found(tool, root)
    unread = [f for f in found if f[2] == "not-analysed"]
    assert sorted(f[0].split(".")[0] for f in unread) == ["b", "c"], found
    monkeypatch.setattr(_node_batch, "BATCH_TOOLS", ())
    _, found_alone = _found(tool, _logged_folder(tool, tmp_path / "alone", steps, "alone"))
    assert found == found_alone


def _throwing(root: Path, name: str) -> int:
    """The migration `name` of the folder throws after its statement (outline's migration requiring a
    script of the app's build); the line that throws."""
    file = next(f for f in (root / "migrations").iterdir() if f.stem.endswith(name))
    lines = file.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "ran.log" in line) + 2  # after its query
    file.write_text("".join(lines[:at] + ["    throw new Error('build/scripts/fill.js is not built');\n"] + lines[at:]))
    return at + 1


@pytest.mark.parametrize("tool", ["knex", "typeorm", "sequelize", "node-pg-migrate"])
def test_a_batch_goes_on_past_a_file_failing_without_a_database_error(tool, tmp_path, monkeypatch):
    """b adds a column, then throws (no database error): as when the database before c is built, the tool
    goes on past it (its statement stands), and goes on to c, which indexes b's column (outline: one such
    file sent 278 of 297 files to be read alone, 36 s -> 405 s). b is delivered as failed: not analysed,
    saying what reading it alone says, without running it again."""
    from flux_agent.lint.readers import _node_batch

    steps = [STEPS[0], ("b", "ALTER TABLE users ADD COLUMN b int"), ("c", "CREATE INDEX users_b_idx ON users (b)")]
    found = {}
    for name in ("batched", "alone"):
        root = _logged_folder(tool, tmp_path / name, steps, name).resolve()
        throws = _throwing(root, "b")
        if name == "alone":
            monkeypatch.setattr(_node_batch, "BATCH_TOOLS", ())
        ran, found[name] = _found(tool, root)
        assert ran.count("b") == (1 if name == "batched" else 2), ran  # alone: before c, and read itself
    # b not analysed at the line that threw (read alone, sequelize-cli's own catch leaves only its last query's)
    assert [(f[0].split(".")[0], f[1]) for f in found["batched"] if f[2] == "not-analysed"] == [("b", throws)]
    same = lambda fs: sorted(f if f[2] != "not-analysed" else (f[0], 0, *f[2:]) for f in fs)  # noqa: E731
    assert same(found["batched"]) == same(found["alone"]), set(found["batched"]) ^ set(found["alone"])
    assert ("c", "require-concurrent-index-creation") in {(f[0].split(".")[0], f[2]) for f in found["batched"]}


@pytest.mark.parametrize("how", ["json storage", "frozen"])
def test_a_sequelize_config_is_read_as_a_copy_recording_runs_in_the_database(how, tmp_path):
    """outline-style configs the dev database run must not follow: `migrationStorage: "json"` made
    sequelize-cli write sequelize-meta.json into the project, and the next validate (another dev
    database) took every migration for run: no finding, silently. codimd deep-freezes its config, which
    Flux changed in place: every file not analysed ("object is not extensible")."""
    root = _logged_folder("sequelize", tmp_path / "app", STEPS).resolve()
    config = root / "config" / "config.json"
    settings = json.loads(config.read_text())
    if how == "json storage":
        settings["development"].update(migrationStorage="json", migrationStoragePath="sequelize-meta.json")
        config.write_text(json.dumps(settings))
    else:
        config.unlink()
        (root / "config" / "config.js").write_text(
            f"module.exports = Object.freeze({{ development: Object.freeze({json.dumps(settings['development'])}) }});\n")
        (root / ".sequelizerc").write_text("const path = require('path');\n"
                                          "module.exports = { config: path.resolve('config', 'config.js') };\n")
    _, found = _found("sequelize", root)
    assert not [f for f in found if f[2] == "not-analysed"], found
    assert {"require-concurrent-index-creation", "adding-required-field"} <= {f[2] for f in found}, found
    assert not (root / "sequelize-meta.json").exists()


@pytest.mark.parametrize("batched", [True, False])
def test_typeorm_classes_sharing_a_name_are_each_their_file_s(batched, tmp_path, monkeypatch):
    """Each file's class named alike, its migration name (a `name` field) its own: every file was taken for
    the first one's migration (matched by the class name), and judged as sending nothing."""
    from flux_agent.lint.readers import _node_batch

    if not batched:
        monkeypatch.setattr(_node_batch, "BATCH_TOOLS", ())
    root = _logged_folder("typeorm", tmp_path / "app", STEPS, str(tmp_path))  # (not what the other case kept)
    for file in (root / "migrations").glob("173577600*"):
        stamp = file.name.split("-")[0]
        file.write_text(file.read_text().replace(f"export class Step{stamp} implements MigrationInterface {{",
                                                 f"export class Same implements MigrationInterface {{\n"
                                                 f"    name = \"Same{stamp}\";"))
        assert "class Same " in file.read_text()
    ran, found = _found("typeorm", root)
    assert sorted(ran) == (["a", "b", "c"] if batched else ["a", "a", "b", "b", "c"]), ran
    by_file = {(f[0].split(".")[0], f[2]) for f in found}
    assert {("b", "require-concurrent-index-creation"), ("c", "adding-required-field")} <= by_file, found
