"""schema.prisma edits Flux plans for Prisma projects, one golden per operation
(tests/golden/prisma_schema_edits/<case>.diff; FLUX_UPDATE_GOLDEN=1 rewrites them), and
Flux's index and constraint names against Prisma's naming for the same model."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from pydantic import TypeAdapter

from flux_agent.model.operations import Operation
from flux_agent.model.plan import Plan
from flux_agent.plan.ops._base import short_name
from flux_agent.schema.readers.prisma import read_prisma
from flux_agent.write.code_changes import apply
from flux_agent.write.tools._prisma_changes import schema_changes
from flux_agent.write.tools._prisma_schema import default_index_name, flux_name

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "prisma_schema_edits"

SCHEMA = '''datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

enum Role {
  USER
  ADMIN @map("admin")
}

model User {
  id        Int      @id @default(autoincrement())
  email     String   @unique
  fullName  String?  @map("full_name") // shown in the header
  role      Role     @default(USER)
  createdAt DateTime @default(now()) @map("created_at")

  @@index([fullName])
  @@map("users")
}

model Post {
  id       Int    @id @default(autoincrement())
  title    String @db.VarChar(200)
  authorId Int    @map("author_id")
  views    Int?

  @@index([authorId])
}

model Tag {
  id   Int    @id
  name String
}
'''

CASES = {
    "add_column": {"op": "add_column", "table": "users", "column": "nickname", "type": "varchar(40)"},
    "add_column_not_null_default": {"op": "add_column", "table": "Post", "column": "published", "type": "boolean",
                                    "nullable": False, "default": "false"},
    "add_column_timestamptz": {"op": "add_column", "table": "Post", "column": "edited_at", "type": "timestamptz",
                               "default": "now()"},
    "add_column_enum": {"op": "add_column", "table": "Post", "column": "audience", "type": "\"Role\"",
                        "nullable": False, "default": "'admin'"},
    "add_column_array": {"op": "add_column", "table": "Post", "column": "labels", "type": "text[]"},
    "drop_column": {"op": "drop_column", "table": "users", "column": "full_name"},
    "rename_column": {"op": "rename_column", "table": "users", "column": "full_name", "new_name": "display_name"},
    "rename_column_unique": {"op": "rename_column", "table": "users", "column": "email", "new_name": "mail"},
    "change_column_type": {"op": "change_column_type", "table": "Post", "column": "title", "type": "text"},
    "change_column_type_bigint": {"op": "change_column_type", "table": "Post", "column": "views",
                                  "type": "bigint"},
    # numeric alone: Decimal @db.Decimal, as Prisma introspects it (was Unsupported("numeric"), which the client drops)
    "change_column_type_numeric": {"op": "change_column_type", "table": "Post", "column": "views",
                                   "type": "numeric"},
    "add_column_numeric": {"op": "add_column", "table": "users", "column": "balance", "type": "numeric"},
    "set_not_null": {"op": "set_not_null", "table": "Post", "column": "views", "backfill": "0"},
    "drop_not_null": {"op": "drop_not_null", "table": "Post", "column": "title"},
    "set_default": {"op": "set_default", "table": "Post", "column": "views", "default": "0"},
    "set_default_expression": {"op": "set_default", "table": "Tag", "column": "name", "default": "md5(random()::text)"},
    "drop_default": {"op": "drop_default", "table": "users", "column": "role"},
    "add_index": {"op": "add_index", "table": "Post", "columns": ["title", "views"]},
    "add_index_named": {"op": "add_index", "table": "Post", "columns": ["title"], "name": "post_title_search"},
    "add_index_unique": {"op": "add_index", "table": "Tag", "columns": ["name"], "unique": True},
    "add_unique": {"op": "add_unique", "table": "users", "columns": ["full_name", "role"]},
    "drop_index": {"op": "drop_index", "name": "Post_author_id_idx"},
    "drop_index_field_unique": {"op": "drop_index", "name": "users_email_key"},
    "add_foreign_key": {"op": "add_foreign_key", "table": "Post", "columns": ["author_id"], "ref_table": "users",
                        "ref_columns": ["id"], "on_delete": "cascade"},
    "create_table": {"op": "create_table", "table": "comments", "columns": [
        {"name": "id", "type": "bigserial", "primary_key": True},
        {"name": "body", "type": "text", "nullable": False},
        {"name": "post_id", "type": "integer", "nullable": False},
        {"name": "score", "type": "numeric(10,2)", "default": "0"}]},
    "rename_table": {"op": "rename_table", "table": "Post", "new_name": "articles"},
    "rename_table_mapped": {"op": "rename_table", "table": "users", "new_name": "accounts"},
    "drop_table": {"op": "drop_table", "table": "Tag"},
    "add_enum_value": {"op": "add_enum_value", "enum": "\"Role\"", "value": "GUEST", "after": "USER"},
}

ops = TypeAdapter(Operation)


def changes(tmp_path: Path, *operations: dict):
    (tmp_path / "prisma").mkdir(exist_ok=True)
    (tmp_path / "prisma" / "schema.prisma").write_text(SCHEMA)
    plan = Plan(description="x", type="safe", tool="prisma", steps=[],
                operations=[ops.validate_python(o) for o in operations])
    return schema_changes(plan, tmp_path, PurePosixPath("prisma"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_schema_edit_golden(tmp_path, case):
    got = changes(tmp_path, CASES[case])
    assert len(got) == 1 and got[0].patch, got
    assert got[0].applied_on_write and got[0].path == "prisma/schema.prisma"
    golden = GOLDEN / f"{case}.diff"
    if os.environ.get("FLUX_UPDATE_GOLDEN"):
        golden.write_text(got[0].patch)
    assert got[0].patch == golden.read_text()
    after = apply(SCHEMA, got[0].patch)
    read_prisma_text(tmp_path, after)  # still a schema the reader (and Prisma's grammar) accepts


def read_prisma_text(tmp_path: Path, text: str):
    path = tmp_path / "after.prisma"
    path.write_text(text)
    return read_prisma(path)


def test_edits_describe_the_database_flux_makes(tmp_path):
    """The schema after the edit reads (through Flux's Prisma reader, Prisma's own naming rules) as
    the objects Flux's plan creates: columns, types, names of indexes and keys."""
    got = changes(tmp_path, CASES["add_column"], CASES["add_index"], CASES["add_foreign_key"],
                  CASES["rename_column"], CASES["change_column_type"], CASES["set_not_null"])
    schema = read_prisma_text(tmp_path, apply(SCHEMA, got[0].patch))
    users, post = schema.table("users"), schema.table("Post")
    assert users.column("nickname").type == "character varying(40)" and users.column("nickname").nullable
    assert users.column("display_name") is not None and users.column("full_name") is None
    assert post.column("title").type == "text" and not post.column("views").nullable
    assert flux_name("Post", ["title", "views"], "idx") in {i.name for i in post.indexes}
    fk = next(c for c in post.constraints if c.kind == "foreign_key")
    assert (fk.name, fk.columns, fk.ref_table, fk.on_delete) == ("Post_author_id_fkey", ["author_id"], "users",
                                                                 "CASCADE")


@pytest.mark.parametrize("table,columns,suffix", [
    ("users", ["email"], "key"), ("Post", ["author_id"], "idx"), ("Post", ["author_id"], "fkey"),
    ("order_items", ["order_id", "product_id"], "key"), ("a" * 40, ["b" * 20], "idx"), ("t", ["c" * 70], "fkey"),
])
def test_flux_names_are_prismas(table, columns, suffix):
    prisma = default_index_name(table, columns, suffix)
    assert len(prisma.encode()) <= 63
    flux = short_name(table, *columns, suffix=suffix)
    if len(f"{table}_{'_'.join(columns)}_{suffix}") <= 63:
        assert flux == prisma  # what the planner names them is Prisma's own name
    else:
        # Long names: Flux's planner ends them in a hash, Prisma cuts them. The edit then carries
        # map: with Flux's name, so Prisma expects the database's name either way.
        assert flux != prisma


def test_long_index_name_is_mapped(tmp_path):
    op = {"op": "add_index", "table": "Post", "columns": ["title", "views", "author_id", "id"]}
    long = dict(op, columns=["title", "views", "author_id", "id"])
    got = changes(tmp_path, long)
    assert "map:" not in got[0].patch
    global SCHEMA
    keep, SCHEMA = SCHEMA, SCHEMA.replace("model Post {", "model PostWithAVeryLongNameForTestingTheCut {").replace(
        "title    String", "titleOfThePostThatIsLong String")
    try:
        got = changes(tmp_path, {"op": "add_index", "table": "PostWithAVeryLongNameForTestingTheCut",
                                 "columns": ["titleOfThePostThatIsLong", "views"]})
    finally:
        SCHEMA = keep
    name = flux_name("PostWithAVeryLongNameForTestingTheCut", ["titleOfThePostThatIsLong", "views"], "idx")
    assert f'map: "{name}"' in got[0].patch


def test_cannot_is_precise(tmp_path):
    got = changes(tmp_path, {"op": "add_index", "table": "Post", "columns": ["views"], "where": "views > 0"},
                  {"op": "raw_sql", "up": "select 1"}, CASES["add_column"])
    assert [bool(c.patch) for c in got] == [True, False, False]
    assert "partial index" in got[1].why and "raw SQL" in got[2].why
    assert "nickname" in got[0].patch


def test_an_index_on_an_expression_is_not_described(tmp_path):
    """Prisma's @@index lists fields: an expression index (lower(title)) is said, not written as a field."""
    got = changes(tmp_path, {"op": "add_index", "table": "Post", "columns": ["lower(title)"], "unique": True})
    assert [bool(c.patch) for c in got] == [False]
    assert "an index on an expression (lower(title))" in got[0].why


def test_no_schema_file(tmp_path):
    plan = Plan(description="x", type="safe", tool="prisma", steps=[],
                operations=[ops.validate_python(CASES["add_column"])])
    got = schema_changes(plan, tmp_path, PurePosixPath("prisma"))
    assert got[0].patch == "" and "by hand" in got[0].why


PLANNED = ["add_column", "add_index", "add_unique", "add_foreign_key", "rename_column", "rename_column_unique",
           "change_column_type", "set_not_null", "drop_not_null", "set_default", "drop_default", "drop_column",
           "rename_table", "drop_index", "create_table", "add_index_unique", "add_column_enum", "drop_table",
           "add_column_not_null_default", "add_column_timestamptz", "add_column_array", "add_index_named",
           "rename_table_mapped", "drop_index_field_unique", "change_column_type_bigint", "set_default_expression",
           "change_column_type_numeric", "add_column_numeric"]


def _prisma_equal(value):
    """What Prisma takes as the same: timestamptz is Timestamptz(6), now() is CURRENT_TIMESTAMP, and any
    nextval() default is autoincrement() (a renamed table keeps its sequence's old name)."""
    value = (value or "").replace("timestamp(6)", "timestamp").replace("time(6)", "time")
    if value.startswith("nextval("):
        return "autoincrement()"
    return "now()" if value == "CURRENT_TIMESTAMP" else value


def _same_objects(schema):
    return {t.name: ({(i.name, tuple(i.columns), i.unique, i.primary) for i in t.indexes},
                     {(c.name, tuple(c.columns), c.ref_table) for c in t.constraints if c.kind == "foreign_key"},
                     {(c.name, _prisma_equal(c.type), c.nullable, _prisma_equal(c.default)) for c in t.columns})
            for t in schema.tables}


def planned(tmp_path: Path, case: str):
    """(the schema SCHEMA describes, the plan of CASES[case] on it laid out as Prisma's migrations)."""
    pytest.importorskip("pglast")
    from datetime import datetime, timezone

    from flux_agent.model.settings import Settings
    from flux_agent.plan.planner import build_plan
    from flux_agent.write.tools.prisma import WRITER

    (tmp_path / "prisma" / "migrations").mkdir(parents=True)
    (tmp_path / "prisma" / "schema.prisma").write_text(SCHEMA)
    before = read_prisma(tmp_path / "prisma" / "schema.prisma")
    plan = build_plan([ops.validate_python(CASES[case])], before, Settings(), tool="prisma")
    return before, WRITER.layout(plan, tmp_path, "prisma/migrations", datetime(2030, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("case", PLANNED)
def test_planned_by_flux_then_read_as_prisma_equals_the_database(tmp_path, case):
    """Flux plans the operation on the schema schema.prisma describes; the edited schema.prisma,
    read with Prisma's rules, has the same tables, columns, index and key names as the plan's SQL
    replayed: what `prisma migrate diff` compares."""
    from flux_agent.schema.replay.steps import schemas_before_each
    from flux_agent.write.tools._prisma_changes import window_closed
    from flux_agent.write.tools.prisma import WRITER

    before, plan = planned(tmp_path, case)
    got = WRITER.code_changes(plan, tmp_path)
    assert len(got) == 1 and got[0].applied_by_flux, got  # set_not_null: with its SET NOT NULL's write
    after_db = schemas_before_each([s.up_sql for s in plan.steps if not s.is_code], before)[-1]
    text = apply(SCHEMA, got[0].patch)
    code = next((s.number for s in plan.steps if s.is_code), None)
    (tmp_path / "prisma" / "schema.prisma").write_text(text)
    closed = window_closed(plan, tmp_path, PurePosixPath("prisma")) if code else {}
    assert bool(closed) == (case.startswith(("drop_column", "drop_table", "rename_column", "change_column_type"))
                            and code is not None)
    if closed:
        # written with the first steps, it describes the database until the contract: a dropped
        # column (table), a renamed one's old column still there, @ignore'd; the contract takes it out
        window_db = schemas_before_each([s.up_sql for s in plan.steps if s.number < code], before)[-1]
        copies = {line.split('@map("')[1].split('"')[0] for line in text.splitlines()
                  if "@ignore" in line and '@map("' in line and "flux_" in line}
        for t in window_db.tables:  # a copy's field is optional (no default): a required ignored
            for c in t.columns:     # field would take `create` from the client (the trigger fills it)
                c.nullable = c.nullable or c.name in copies
        assert _same_objects(read_prisma_text(tmp_path, text)) == _same_objects(window_db)
        text = closed["prisma/schema.prisma"]
    assert _same_objects(read_prisma_text(tmp_path, text)) == _same_objects(after_db)


@pytest.mark.parametrize("case", ["drop_column", "drop_table"])
def test_a_set_aside_column_or_table_is_described_until_its_drop(tmp_path, case):
    """A drop's contract is written in two goes (write/deploy_groups.py: the set-aside, then, once it
    ran, the drop that loses data): after the first, schema.prisma maps the set-aside column (table),
    still ignored, with the database's names, so a `prisma migrate dev` in between drops nothing early;
    after the second it is gone. Each compared with the plan's SQL replayed, as in the test above."""
    from flux_agent.schema.replay.steps import schemas_before_each
    from flux_agent.write.deploy_groups import first_group, next_group
    from flux_agent.write.tools._prisma_changes import window_closed
    from flux_agent.write.tools.prisma import WRITER

    before, plan = planned(tmp_path, case)
    text = apply(SCHEMA, WRITER.code_changes(plan, tmp_path)[0].patch)  # the window: written with the plan
    written = {s.number for s in first_group(plan)}
    stages = []
    while True:
        gate, group = next_group(plan, written)
        if not group:
            break
        (tmp_path / "prisma" / "schema.prisma").write_text(text)
        text = window_closed(plan.model_copy(update={"steps": group}), tmp_path, PurePosixPath("prisma")).get(
            "prisma/schema.prisma", text)
        written |= {s.number for s in group}
        db = schemas_before_each([s.up_sql for s in plan.steps if not s.is_code and s.number in written], before)[-1]
        assert _same_objects(read_prisma_text(tmp_path, text)) == _same_objects(db), text
        stages.append(text)
    assert len(stages) == 2 and "flux_dropped" in stages[0] and "flux_dropped" not in stages[1]


def test_write_applies_the_schema_edit(tmp_path, monkeypatch, capsys):
    """`flux plan --write` in a Prisma project changes schema.prisma with the first files it writes."""
    pytest.importorskip("pglast")
    import json

    from flux_agent.entry.cli import main

    monkeypatch.setenv("FLUX_DEVDB", "off")
    schema = ('datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n\n'
              'model User {\n  id    Int    @id @default(autoincrement())\n  email String\n\n  @@map("users")\n}\n')
    (tmp_path / "prisma" / "migrations" / "20240101000000_init").mkdir(parents=True)
    (tmp_path / "prisma" / "schema.prisma").write_text(schema)
    (tmp_path / "prisma" / "migrations" / "migration_lock.toml").write_text('provider = "postgresql"\n')
    (tmp_path / "prisma" / "migrations" / "20240101000000_init" / "migration.sql").write_text(
        'CREATE TABLE "users" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, '
        'CONSTRAINT "users_pkey" PRIMARY KEY ("id"));\n')
    ops = [{"op": "add_column", "table": "users", "column": "nickname", "type": "text"},
           {"op": "add_index", "table": "users", "columns": ["email"]}]
    assert main(["plan", "--project", str(tmp_path), "--op", json.dumps(ops), "--write"]) == 0
    capsys.readouterr()
    after = (tmp_path / "prisma" / "schema.prisma").read_text()
    assert "  nickname String?\n" in after and "  @@index([email])\n" in after
    assert read_prisma(tmp_path / "prisma" / "schema.prisma").table("users").column("nickname").nullable


def test_multi_file_schema_edits_the_file_holding_the_model(tmp_path):
    (tmp_path / "prisma" / "models").mkdir(parents=True)
    (tmp_path / "prisma" / "schema.prisma").write_text('datasource db {\n  provider = "postgresql"\n'
                                                       '  url      = env("DATABASE_URL")\n}\n')
    (tmp_path / "prisma" / "models" / "user.prisma").write_text(
        'model User {\n  id    Int    @id\n  email String\n\n  @@map("users")\n}\n')
    plan = Plan(description="x", type="safe", tool="prisma", steps=[], operations=[
        ops.validate_python(CASES["add_column"]),
        ops.validate_python({"op": "create_table", "table": "notes", "columns": [
            {"name": "id", "type": "integer", "primary_key": True}]})])
    got = schema_changes(plan, tmp_path, PurePosixPath("prisma"))
    by_path = {c.path: c.patch for c in got}
    assert sorted(by_path) == ["prisma/models/user.prisma", "prisma/schema.prisma"]
    assert "+  nickname String? @db.VarChar(40)" in by_path["prisma/models/user.prisma"]
    assert "+model notes {" in by_path["prisma/schema.prisma"]
    assert all(c.applied_on_write for c in got)
