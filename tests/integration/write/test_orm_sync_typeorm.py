"""TypeORM's entities kept in step with the real tool: a small TypeORM project (entity classes, a
DataSource, a first migration `typeorm migration:generate` wrote and `migration:run` ran); Flux plans
an operation, writes it (`plan --write`, then `continue` past the code step), its entity change is
applied with `patch -p1`, the migrations run, and `typeorm migration:generate --check` then finds
no changes: the entities Flux edited and the database its migrations built agree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.write.test_orm_sync_drizzle import write_all
from js_tools import db_params, modules, run, NODE

pytestmark = [pytest.mark.pg, pytest.mark.node, pytest.mark.slow]

USER_TS = '''import { Entity, PrimaryGeneratedColumn, Column, OneToMany } from "typeorm";
import { Order } from "./Order";

@Entity("users")
export class User {
    @PrimaryGeneratedColumn()
    id!: number;

    // the login
    @Column({ type: "text" })
    email!: string;

    @Column({ name: "full_name", type: "varchar", length: 100, nullable: true })
    fullName!: string | null;

    @Column("integer", { nullable: true })
    age!: number | null;

    @OneToMany(() => Order, (order) => order.user)
    orders!: Order[];
}
'''

ORDER_TS = '''import { Entity, PrimaryGeneratedColumn, Column, Index, ManyToOne, JoinColumn } from "typeorm";
import { User } from "./User";

@Entity({ name: "orders" })
@Index("orders_user_id_idx", ["userId"])
export class Order {
    @PrimaryGeneratedColumn()
    id!: number;

    @Column({ name: "user_id", type: "integer" })
    userId!: number;

    @ManyToOne(() => User, (user) => user.orders)
    @JoinColumn({ name: "user_id" })
    user!: User;

    @Column({ type: "text", default: "new" })
    status!: string;

    @Column({ name: "created_at", type: "timestamptz", default: () => "now()" })
    createdAt!: Date;
}
'''

TAG_TS = '''import { Entity, PrimaryGeneratedColumn, Column } from "typeorm";

@Entity()
export class tags {
    @PrimaryGeneratedColumn()
    id!: number;

    @Column("text")
    label!: string;
}
'''

CASES = {
    "add-column": {"op": "add_column", "table": "users", "column": "nick_name", "type": "varchar(40)",
                   "nullable": False, "default": "'anon'"},
    "add-nullable-column": {"op": "add_column", "table": "orders", "column": "note", "type": "text"},
    "add-numeric-column": {"op": "add_column", "table": "orders", "column": "amount", "type": "numeric(10,2)"},
    "add-index": {"op": "add_index", "table": "users", "columns": ["email"]},
    "add-unique": {"op": "add_unique", "table": "users", "columns": ["email"]},
    "drop-index": {"op": "drop_index", "name": "orders_user_id_idx"},
    "set-not-null": {"op": "set_not_null", "table": "users", "column": "age", "backfill": "0"},
    "drop-not-null": {"op": "drop_not_null", "table": "users", "column": "email"},
    "drop-column": {"op": "drop_column", "table": "users", "column": "age"},
    "rename-column": {"op": "rename_column", "table": "users", "column": "full_name", "new_name": "display_name"},
    "rename-column-by-property": {"op": "rename_column", "table": "users", "column": "email",
                                  "new_name": "email_address"},
    "change-type": {"op": "change_column_type", "table": "users", "column": "age", "type": "bigint"},
    "rename-table": {"op": "rename_table", "table": "tags", "new_name": "labels"},
    "rename-indexed-fk-column": {"op": "rename_column", "table": "orders", "column": "user_id",
                                 "new_name": "customer_id"},
    "create-table": {"op": "create_table", "table": "audit_log", "columns": [
        {"name": "id", "type": "bigserial", "primary_key": True}, {"name": "event", "type": "text", "nullable": False},
        {"name": "at", "type": "timestamptz", "nullable": False, "default": "now()"},
        {"name": "amount", "type": "numeric(10,2)"}, {"name": "actor_name", "type": "varchar(80)"}]},
    "add-check": {"op": "add_check", "table": "users", "expression": "age >= 0"},
    "set-default": {"op": "set_default", "table": "users", "column": "age", "default": "18"},
    "drop-default": {"op": "drop_default", "table": "orders", "column": "status"},
    "add-expression-default-column": {"op": "add_column", "table": "orders", "column": "paid_at",
                                      "type": "timestamptz", "nullable": False, "default": "now()"},
}


@pytest.fixture
def project(tmp_path, pg_url) -> Path:
    root = tmp_path / "app"
    (root / "src" / "entity").mkdir(parents=True)
    (root / "node_modules").symlink_to(modules("typeorm"), target_is_directory=True)
    d = db_params(pg_url)
    (root / "data-source.ts").write_text(
        'import "reflect-metadata";\nimport { DataSource } from "typeorm";\n'
        f'export default new DataSource({{ type: "postgres", host: {json.dumps(d["host"])}, port: {d["port"]},'
        f' username: {json.dumps(d["user"])}, password: {json.dumps(d["password"])},'
        f' database: {json.dumps(d["database"])}, entities: [__dirname + "/src/entity/*.ts"],'
        ' migrations: [__dirname + "/migrations/*.ts"] });\n')
    (root / "tsconfig.json").write_text(json.dumps({"compilerOptions": {
        "target": "es2021", "module": "commonjs", "strict": True, "esModuleInterop": True,
        "experimentalDecorators": True, "emitDecoratorMetadata": True, "skipLibCheck": True,
        "types": ["node"]}, "include": ["*.ts", "src/**/*.ts", "migrations/*.ts"]}))
    (root / "package.json").write_text('{"name": "app", "private": true}\n')
    for name, text in (("User", USER_TS), ("Order", ORDER_TS), ("tags", TAG_TS)):
        (root / "src" / "entity" / f"{name}.ts").write_text(text)
    typeorm(root, "migration:generate", "migrations/Init")
    typeorm(root, "migration:run")
    return root


def typeorm(root: Path, command: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [NODE, root / "node_modules/typeorm/cli-ts-node-commonjs.js", command, *args, "-d", "data-source.ts"]
    if not check:
        return subprocess.run([str(c) for c in cmd], cwd=root, capture_output=True, text=True, timeout=300,
                              env={**__import__("os").environ, "TS_NODE_TRANSPILE_ONLY": "true"})
    run(cmd, root, env={"TS_NODE_TRANSPILE_ONLY": "true"})


def test_the_first_migration_matches_the_entities(project):
    done = typeorm(project, "migration:generate", "migrations/Check", "--check", check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_migration_generate_finds_nothing_after_flux(project, case, capsys):
    plan = write_all(project, CASES[case], capsys)
    changes = [c for c in plan.code_changes if c.patch]
    assert changes and [c.why for c in plan.code_changes if not c.patch] == []
    for c in changes:
        subprocess.run(["patch", "-p1"], input=c.patch, text=True, cwd=project, check=True, capture_output=True)
    run([NODE, project / "node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json"], project)
    typeorm(project, "migration:run", "--transaction", "each")
    done = typeorm(project, "migration:generate", "migrations/Check", "--check", check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_without_the_entity_change_migration_generate_proposes_undoing_the_plan(project, capsys):
    """The check above can fail: the same plan, its entity change not applied."""
    write_all(project, CASES["add-column"], capsys)
    typeorm(project, "migration:run", "--transaction", "each")
    done = typeorm(project, "migration:generate", "migrations/Check", "--check", check=False)
    assert done.returncode != 0 and 'DROP COLUMN "nick_name"' in done.stdout


def test_a_generated_uuid_is_left_to_the_entity_s_author_with_a_note(project, capsys):
    """TypeORM reads a gen_random_uuid() default as its own generated uuid, written as the DataSource's
    uuidExtension says: Flux cannot say it in a @Column, and says so."""
    plan = write_all(project, {"op": "add_column", "table": "orders", "column": "token", "type": "uuid",
                               "nullable": False, "default": "gen_random_uuid()"}, capsys)
    assert [c.patch for c in plan.code_changes] == [""]
    assert '@Generated("uuid")' in plan.code_changes[0].why and "migration:generate" in plan.code_changes[0].why


def test_a_new_table_s_entity_joins_a_data_source_listing_classes(project, capsys):
    """Where the DataSource lists its entity classes (no glob), the new class is added and imported."""
    source = project / "data-source.ts"
    text = source.read_text().replace('entities: [__dirname + "/src/entity/*.ts"]', "entities: [User, Order, tags]")
    source.write_text('import { User } from "./src/entity/User";\nimport { Order } from "./src/entity/Order";\n'
                      'import { tags } from "./src/entity/tags";\n' + text)
    plan = write_all(project, CASES["create-table"], capsys)
    changes = {c.path: c for c in plan.code_changes}
    assert sorted(changes) == ["data-source.ts", "src/entity/AuditLog.ts"] and all(c.patch for c in changes.values())
    for c in changes.values():
        subprocess.run(["patch", "-p1"], input=c.patch, text=True, cwd=project, check=True, capture_output=True)
    assert "entities: [User, Order, tags, AuditLog]" in source.read_text()
    run([NODE, project / "node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json"], project)
    typeorm(project, "migration:run", "--transaction", "each")
    done = typeorm(project, "migration:generate", "migrations/Check", "--check", check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.parametrize("sql", [["--sql"], []])
def test_plan_text_shows_the_entity_change(project, capsys, sql):
    """Text showed only the checklist's "apply the model changes (...)": the text prints the patch, with
    the steps' SQL or without it."""
    from flux_agent.entry.cli import main

    assert main(["plan", "--project", str(project), "--op", json.dumps(CASES["rename-column"]), *sql]) == 0
    out = capsys.readouterr().out
    assert "-- model change src/entity/User.ts (`patch -p1`): the TypeORM entity matches" in out
    assert '+    @Column({ name: "display_name", type: "varchar", length: 100, nullable: true })' in out


@pytest.mark.parametrize("case,formatting", [("add-column", True), ("create-table", True), ("add-column", False)])
def test_entity_changes_come_in_the_project_s_prettier_layout(project, case, formatting, capsys):
    """A project formatting its entities with prettier gets Flux's entity edits, and its migrations, in
    prettier's layout: the check passes after the patches, and TypeORM still finds nothing to do. With
    `format_files: false` the same check fails (the edits alone are not in that layout)."""
    prettier = project / "node_modules" / ".bin" / "prettier"
    if not prettier.exists():
        pytest.skip("prettier is not installed (npm install --prefix tests/node)")
    (project / ".prettierrc").write_text(json.dumps({"singleQuote": True, "printWidth": 60}))
    run([prettier, "--write", "src/entity"], project)
    if not formatting:
        (project / ".flux.yaml").write_text("format_files: false\n")
    plan = write_all(project, CASES[case], capsys)
    changes = [c for c in plan.code_changes if c.patch]
    assert changes
    for c in changes:
        subprocess.run(["patch", "-p1"], input=c.patch, text=True, cwd=project, check=True, capture_output=True)
    ours = [p.relative_to(project).as_posix() for p in (project / "migrations").glob("*.ts") if "Init" not in p.name]
    done = subprocess.run([prettier, "--check", "src/entity", *ours], cwd=project, capture_output=True, text=True)
    assert (done.returncode == 0) == formatting, done.stdout + done.stderr
    run([NODE, project / "node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json"], project)
    typeorm(project, "migration:run", "--transaction", "each")
    done = typeorm(project, "migration:generate", "migrations/Check", "--check", check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
