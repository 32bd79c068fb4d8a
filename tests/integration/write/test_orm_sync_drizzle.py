"""Issue 18 with the real drizzle-kit: a small drizzle project (schema.ts, drizzle.config.ts, an
initial `drizzle-kit generate`d migration and snapshot); Flux plans an operation, writes it
(`plan --write`, then `continue` past the code step), its schema.ts change is applied with
`patch -p1`, and `drizzle-kit generate` then finds no schema changes: the snapshots Flux wrote
and the edited pgTable describe the same database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from flux_agent.entry import actions as tools
from flux_agent.entry.cli import main

ROOT = Path(__file__).resolve().parents[3]
NODE = shutil.which("node")
NPM_DIRS = [ROOT / "tests" / "node" / "node_modules",
            Path(os.environ.get("FLUX_NPM_DIR", "/tmp/flux-npm")) / "node_modules"]

SCHEMA_TS = '''import { pgTable, serial, text, integer, varchar, index, timestamp } from "drizzle-orm/pg-core";

export const users = pgTable("users", {
  id: serial("id").primaryKey(),
  email: text("email").notNull(), // the login
  fullName: varchar("full_name", { length: 100 }),
  age: integer("age"),
});

export const orders = pgTable("orders", {
  id: serial("id").primaryKey(),
  userId: integer("user_id").notNull().references(() => users.id),
  note: text("note").default("it's {braces} ), in a string"),
  createdAt: timestamp("created_at", { withTimezone: true }).defaultNow(),
}, (t) => [
  index("orders_user_id_idx").on(t.userId),
]);
'''

CASES = {
    "add-column": {"op": "add_column", "table": "users", "column": "nick_name", "type": "varchar(40)",
                   "nullable": False, "default": "'anon'"},
    "add-index": {"op": "add_index", "table": "users", "columns": ["email"]},
    "add-index-to-list": {"op": "add_index", "table": "orders", "columns": ["created_at", "user_id"]},
    "add-column-expression-default": {"op": "add_column", "table": "orders", "column": "token", "type": "uuid",
                                      "nullable": False, "default": "gen_random_uuid()"},
    "set-not-null": {"op": "set_not_null", "table": "users", "column": "age", "backfill": "0"},
    "drop-not-null": {"op": "drop_not_null", "table": "users", "column": "email"},
    "set-default": {"op": "set_default", "table": "users", "column": "age", "default": "18"},
    "drop-default": {"op": "drop_default", "table": "orders", "column": "note"},
    "drop-column": {"op": "drop_column", "table": "users", "column": "age"},
    "add-unique": {"op": "add_unique", "table": "users", "columns": ["email"]},
    "drop-index": {"op": "drop_index", "name": "orders_user_id_idx"},
    "rename-column": {"op": "rename_column", "table": "users", "column": "full_name", "new_name": "display_name"},
    "rename-indexed-fk-column": {"op": "rename_column", "table": "orders", "column": "user_id",
                                 "new_name": "customer_id"},
    "change-type": {"op": "change_column_type", "table": "users", "column": "age", "type": "bigint"},
    "create-table": {"op": "create_table", "table": "audit_log", "columns": [
        {"name": "id", "type": "bigserial", "primary_key": True}, {"name": "event", "type": "text", "nullable": False},
        {"name": "at", "type": "timestamptz", "nullable": False, "default": "now()"},
        {"name": "amount", "type": "numeric(10,2)"}]},
    "drop-table": None,
    "rename-table": {"op": "rename_table", "table": "tags", "new_name": "labels"},  # a table nothing references: made by create-table's schema, see below
}


def npm() -> Path:
    if not NODE:
        pytest.skip("node is not installed")
    for folder in NPM_DIRS:
        if all((folder / p / "package.json").is_file() for p in ("drizzle-kit", "drizzle-orm")):
            return folder
    pytest.skip("drizzle-kit and drizzle-orm are not installed under tests/node")


def generate(project: Path, *extra: str) -> str:
    done = subprocess.run([NODE, "node_modules/drizzle-kit/bin.cjs", "generate", "--config", "drizzle.config.ts",
                           *extra], cwd=project, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def drizzle_project(root: Path, schema_ts: str) -> Path:
    """A drizzle project in `root` with `schema_ts` as src/schema.ts and drizzle-kit's first migration."""
    (root / "src").mkdir(parents=True)
    (root / "node_modules").symlink_to(npm())
    (root / "src" / "schema.ts").write_text(schema_ts)
    (root / "drizzle.config.ts").write_text(
        'export default { dialect: "postgresql", schema: "./src/schema.ts", out: "./drizzle" };\n')
    generate(root, "--name", "init")
    return root


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FLUX_DEVDB", "off")  # the schema is read from drizzle's snapshot
    root = drizzle_project(tmp_path / "app", SCHEMA_TS)
    assert (root / "drizzle" / "meta" / "0000_snapshot.json").is_file()
    return root


def write_all(project: Path, op: dict, capsys):
    plan = tools.plan_migration([op], str(project))
    assert main(["plan", "--project", str(project), "--op", json.dumps(op), "--write"]) == 0
    for _ in plan.steps:
        if main(["continue", "--project", str(project)]) != 0:
            break
    capsys.readouterr()
    return plan


def _additive(plan) -> bool:
    return all(op.op in ("create_table", "add_column", "add_index", "add_unique", "add_foreign_key", "add_check")
               for op in plan.operations)


def _patch_by_hand(project: Path, changes) -> None:
    """The changes --write left to the user, applied as a user would."""
    for c in changes:
        if not c.applied_by_flux:
            subprocess.run(["patch", "-p1"], input=c.patch, text=True, cwd=project, check=True, capture_output=True)


@pytest.mark.node
def test_a_plan_that_only_adds_leaves_generate_nothing_right_after_write(project, capsys):
    """Right after `flux plan --write`, before any continue: the schema already declares what the plan
    adds, so `drizzle-kit generate` finds nothing (it generated a DROP of the new column). The journal
    ends as it did (a formatter's newline was dropped)."""
    journal = project / "drizzle" / "meta" / "_journal.json"
    assert not journal.read_text().endswith("\n")  # as drizzle-kit writes it
    journal.write_text(journal.read_text() + "\n")  # as the project's formatter leaves it
    assert main(["plan", "--project", str(project), "--op", json.dumps(CASES["add-column"]), "--write"]) == 0
    capsys.readouterr()
    assert journal.read_text().endswith("}\n") and len(json.loads(journal.read_text())["entries"]) > 1
    assert "nick_name" in (project / "src" / "schema.ts").read_text()
    assert "No schema changes" in generate(project)


def _snapshots(project: Path) -> list[dict]:
    meta = project / "drizzle" / "meta"
    return [json.loads(p.read_text()) for p in sorted(meta.glob("*_snapshot.json"))]


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_drizzle_kit_generate_finds_nothing_after_flux(project, case, capsys):
    if case in ("drop-table", "rename-table"):  # a table nothing references, made by drizzle-kit itself
        with (project / "src" / "schema.ts").open("a") as f:
            f.write('\nexport const tags = pgTable("tags", {\n  id: serial("id").primaryKey(),\n});\n')
        generate(project, "--name", "tags")
    plan = write_all(project, CASES[case] or {"op": "drop_table", "table": "tags"}, capsys)
    journal = json.loads((project / "drizzle" / "meta" / "_journal.json").read_text())
    snaps = _snapshots(project)
    # one snapshot per journal entry, chained as drizzle-kit chains them
    assert len(snaps) == len(journal["entries"]) > 1
    assert all(b["prevId"] == a["id"] for a, b in zip(snaps, snaps[1:]))
    assert len({s["id"] for s in snaps}) == len(snaps)
    assert all((project / "drizzle" / f"{e['tag']}.sql").is_file() for e in journal["entries"])
    changes = [c for c in plan.code_changes if c.patch]
    # A plan that only adds edits the schema with its files (ai-chatbot: left to the user, the next
    # generate dropped the added column again); one that renames or drops, with its last step's write
    # (left to the user, the dropped column stayed declared and generate added it back: Dokploy's pid)
    assert {c.path for c in changes} == {"src/schema.ts"}
    assert changes[-1].applied_on_write is _additive(plan)
    assert changes[-1].applied_when_written is not _additive(plan)
    assert [c.why for c in plan.code_changes if not c.patch] == []
    _patch_by_hand(project, changes)
    files = sorted(p.name for p in (project / "drizzle").glob("*.sql"))
    out = generate(project)
    assert "No schema changes" in out, out
    assert sorted(p.name for p in (project / "drizzle").glob("*.sql")) == files  # nothing new generated
    assert len(_snapshots(project)) == len(snaps)


# A table whose index has a name of the project's choosing (Dokploy's organizationRole_organizationId_idx),
# on a foreign key with an action: a rename's copy takes the index's name back at the contract.
MEMBERS_TS = '''
export const members = pgTable("members", {
  id: serial("id").primaryKey(),
  orgId: integer("org_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  nick: text("nick"),
}, (t) => [
  index("memberOrg_byOrg_idx").on(t.orgId),
]);
'''
WINDOW_CASES = {
    **{case: CASES[case] for case in ("rename-column", "change-type", "drop-column", "rename-indexed-fk-column")},
    # an indexed foreign key widened: its copy gets the index by hand and the key in a later write
    "widen-indexed-fk": {"op": "change_column_type", "table": "orders", "column": "user_id", "type": "bigint"},
    "rename-chosen-index-name": {"op": "rename_column", "table": "members", "column": "org_id",
                                 "new_name": "organization_id"},
    "drop-indexed-fk-column": {"op": "drop_column", "table": "members", "column": "org_id"},
}


def _each_write(project: Path, op: dict, capsys) -> tuple[int, str]:
    """(the writes, the schema file last read): `drizzle-kit generate` finds nothing after each."""
    writes, schema = 0, ""
    while main(["plan" if not writes else "continue", "--project", str(project),
                *(["--op", json.dumps(op), "--write"] if not writes else [])]) == 0:
        writes += 1
        schema = "\n".join(p.read_text() for p in sorted((project / "src").rglob("*.ts")))
        out = generate(project)
        assert "No schema changes" in out, f"after write {writes}: {out}{schema}"
    capsys.readouterr()
    return writes, schema


@pytest.mark.node
@pytest.mark.slow  # drizzle-kit generate after each of 3-5 writes: 4-8 s a case
@pytest.mark.parametrize("case", sorted(WINDOW_CASES))
def test_generate_finds_nothing_after_any_write(tmp_path, monkeypatch, case, capsys):
    """Dokploy: between `plan --write` and the contract, schema.ts did not declare the copy the
    snapshots hold (deployment.name, createdAt_flux), and a `drizzle-kit generate` then dropped it,
    which the sync trigger writes: every insert failed. Each write declares what its migrations
    leave: the copy beside its column, with its index once built (by hand: the first write stops
    there) and its foreign key once added (a later write); the last write gives the final form, the
    snapshot's index on the column it is on now (a name of the project's choosing given back to the
    copy's index, and a set-aside column's: generate rebuilt them, blocking)."""
    monkeypatch.setenv("FLUX_DEVDB", "off")
    project = drizzle_project(tmp_path / "app", SCHEMA_TS + MEMBERS_TS)
    writes, schema = _each_write(project, WINDOW_CASES[case], capsys)
    assert writes >= (3 if "fk" in case else 2)
    assert schema != SCHEMA_TS + MEMBERS_TS
    if case == "drop-indexed-fk-column":  # the column and its index gone from schema.ts with the last write
        assert "orgId" not in schema and "memberOrg_byOrg_idx" not in schema


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.parametrize("case", ["rename-indexed-fk-column", "widen-indexed-fk"])
def test_generate_finds_nothing_after_any_write_where_the_key_names_another_files_table(split_project, case,
                                                                                         capsys):
    """Dokploy's audit_log.user_id references `user`, imported from ./user: the copy's `.references()`
    is the original's own call (its table in scope), where a table of the same file was looked for and
    no write kept the schema (generate dropped the copy)."""
    writes, schema = _each_write(split_project, WINDOW_CASES[case], capsys)
    assert writes >= 3 and ".references(() => users.id)" in schema


@pytest.mark.node
def test_schema_ts_edit_keeps_strings_and_comments(project):
    """The edit finds the pgTable by tokens: a string holding braces and a comment are left alone."""
    from pydantic import TypeAdapter

    from flux_agent.model.operations import Operation
    from flux_agent.model.plan import Plan
    from flux_agent.write.code_changes import apply
    from flux_agent.write.tools._drizzle_code_changes import code_changes

    ops = [TypeAdapter(Operation).validate_python(o) for o in (
        CASES["add-index-to-list"], {"op": "add_column", "table": "orders", "column": "paid", "type": "boolean",
                                     "nullable": False, "default": "false"},
        {"op": "set_not_null", "table": "users", "column": "age"}, {"op": "drop_default", "table": "orders",
                                                                    "column": "note"},
        {"op": "add_check", "table": "orders", "expression": "user_id > 0"})]
    got = code_changes(Plan(description="x", type="safe", tool="drizzle", operations=ops, steps=[]), project)
    after = apply(SCHEMA_TS, got[0].patch)
    assert "email: text(\"email\").notNull(), // the login" in after
    assert 'index("orders_created_at_user_id_idx").on(t.createdAt, t.userId),\n]);' in after
    assert 'paid: boolean("paid").notNull().default(false),' in after
    assert 'age: integer("age").notNull(),' in after and 'note: text("note"),' in after
    assert "boolean" in after.splitlines()[0]
    assert got[1].patch == "" and "add check" in got[1].why and "by hand" in got[1].why


# The same tables split as projects split them (coding.global-web: an index.ts re-exporting each
# table's file): each edit goes to the file declaring its table, a dropped table's re-export with it.
SPLIT = {
    "src/db/index.ts": 'export * from "./users";\nexport { orders } from "./orders.js";\nexport { tags } from "./tags";\n',
    "src/db/users.ts": SCHEMA_TS.split("export const orders")[0].replace(", index", ""),
    "src/db/orders.ts": 'import { pgTable, serial, text, integer, timestamp, index } from "drizzle-orm/pg-core";\n'
                        'import { users } from "./users";\n\nexport const orders'
                        + SCHEMA_TS.split("export const orders")[1],
    "src/db/tags.ts": 'import { pgTable, serial } from "drizzle-orm/pg-core";\n\n'
                      'export const tags = pgTable("tags", {\n  id: serial("id").primaryKey(),\n});\n',
}
SPLIT_CASES = {
    "add-column": (CASES["add-column"], ["src/db/users.ts"]),
    "add-index-to-list": (CASES["add-index-to-list"], ["src/db/orders.ts"]),
    "rename-indexed-fk-column": (CASES["rename-indexed-fk-column"], ["src/db/orders.ts"]),
    "drop-index": (CASES["drop-index"], ["src/db/orders.ts"]),
    "create-table": (CASES["create-table"], ["src/db/index.ts"]),
    "drop-table": ({"op": "drop_table", "table": "tags"}, ["src/db/index.ts", "src/db/tags.ts"]),
}


@pytest.fixture
def split_project(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FLUX_DEVDB", "off")
    root = tmp_path / "app"
    root.mkdir()
    (root / "node_modules").symlink_to(npm())
    for rel, text in SPLIT.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "drizzle.config.ts").write_text(
        'export default { dialect: "postgresql", schema: "./src/db/index.ts", out: "./drizzle" };\n')
    generate(root, "--name", "init")
    return root


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(SPLIT_CASES))
def test_drizzle_kit_generate_finds_nothing_after_flux_in_a_split_schema(split_project, case, capsys):
    op, files = SPLIT_CASES[case]
    plan = write_all(split_project, op, capsys)
    assert [c.why for c in plan.code_changes if not c.patch] == []
    changes = [c for c in plan.code_changes if c.patch]
    assert sorted({c.path for c in changes}) == files  # a rename's: an edit per write, in one file
    assert all(c.applied_on_write is _additive(plan) for c in changes)
    _patch_by_hand(split_project, changes)
    out = generate(split_project)
    assert "No schema changes" in out, out


@pytest.mark.node
def test_a_drop_left_by_hand_says_when(tmp_path, monkeypatch):
    """Dokploy's audit_log.user_id is named in its relations(): the drop is left by hand, and the note
    said nothing of when; made at once, the next generate dropped the column in one step, the very
    drop the plan exists to avoid. It says: once the last step is written."""
    monkeypatch.setenv("FLUX_DEVDB", "off")
    project = drizzle_project(tmp_path / "app", SCHEMA_TS.replace(
        'from "drizzle-orm/pg-core";', 'from "drizzle-orm/pg-core";\nimport { relations } from "drizzle-orm";') +
        "\nexport const ordersRelations = relations(orders, ({ one }) => ({\n"
        "  user: one(users, { fields: [orders.userId], references: [users.id] }),\n}));\n")
    plan = tools.plan_migration([{"op": "drop_column", "table": "orders", "column": "user_id"}], str(project))
    notes = [c.why for c in plan.code_changes if not c.patch]
    assert len(notes) == 1 and "orders.userId is used in the schema file (relations)" in notes[0]
    assert "once `flux continue` has written the plan's last step" in notes[0]
