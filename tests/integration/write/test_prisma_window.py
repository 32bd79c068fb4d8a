"""Between a drop's code deploy and its contract the column (or table) is still in the database:
`plan --write` keeps its field (model) in schema.prisma marked @ignore (@@ignore), so the client
stops using it and `prisma migrate dev` in between writes no DROP of its own; `flux continue`,
writing the drop, removes it. Each schema is checked by Prisma's own validator (its wasm build)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from flux_agent.entry.cli import main

ROOT = Path(__file__).resolve().parents[3]
NODE = shutil.which("node")
WASM = ROOT / "tests" / "node" / "node_modules" / "@prisma" / "prisma-schema-wasm"

SCHEMA = '''datasource db {
  provider = "postgresql"
}

model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  nick  String
  posts Post[]

  @@index([nick])
  @@map("users")
}

model Post {
  id     Int  @id @default(autoincrement())
  userId Int
  user   User @relation(fields: [userId], references: [id])
}

model Tag {
  id   Int    @id @default(autoincrement())
  name String
}
'''
INIT = '''CREATE TABLE "users" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, "nick" TEXT NOT NULL,
  CONSTRAINT "users_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
CREATE INDEX "users_nick_idx" ON "users"("nick");
CREATE TABLE "Post" ("id" SERIAL NOT NULL, "userId" INTEGER NOT NULL, CONSTRAINT "Post_pkey" PRIMARY KEY ("id"));
ALTER TABLE "Post" ADD CONSTRAINT "Post_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id")
  ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE TABLE "Tag" ("id" SERIAL NOT NULL, "name" TEXT NOT NULL, CONSTRAINT "Tag_pkey" PRIMARY KEY ("id"));
'''
VALIDATE = '''const w = require(process.argv[1]); const fs = require("fs");
try { w.validate(JSON.stringify({prismaSchema: [["schema.prisma", fs.readFileSync(process.argv[2], "utf8")]],
                                  noColorErrors: true})); }
catch (e) { console.log(JSON.parse(e.message).message); process.exit(1); }'''


def prisma_validate(path: Path) -> None:
    if not NODE or not (WASM / "package.json").is_file():
        pytest.skip("node or @prisma/prisma-schema-wasm (tests/node) is not installed")
    done = subprocess.run([NODE, "-e", VALIDATE, str(WASM), str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def prisma_project(root: Path, init_sql: str = INIT, schema: str = SCHEMA) -> Path:
    """A Prisma project in `root`: its first migration and schema.prisma."""
    init = root / "prisma" / "migrations" / "20240101000000_init"
    init.mkdir(parents=True)
    (init / "migration.sql").write_text(init_sql)
    (root / "prisma" / "migrations" / "migration_lock.toml").write_text('provider = "postgresql"\n')
    (root / "prisma" / "schema.prisma").write_text(schema)
    return root


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FLUX_DEVDB", "off")
    prisma_project(tmp_path)
    prisma_validate(tmp_path / "prisma" / "schema.prisma")
    return tmp_path


def _model(text: str, name: str) -> str:
    return text.split(f"model {name} {{")[1].split("}")[0]


@pytest.mark.node
@pytest.mark.parametrize("op, during, after", [
    ({"op": "drop_column", "table": "users", "column": "nick"},
     lambda t: "  nick  String? @ignore\n" in _model(t, "User") and "@@index([nick])" in t,
     lambda t: "nick" not in _model(t, "User")),
    # Prisma refuses a relation field to an ignored model unless it is ignored too (User.posts)
    ({"op": "drop_table", "table": "Post"},
     lambda t: "@@ignore" in _model(t, "Post") and "  posts Post[] @ignore\n" in _model(t, "User"),
     lambda t: "model Post " not in t and "posts" not in _model(t, "User")),
    ({"op": "drop_table", "table": "Tag"}, lambda t: "@@ignore" in _model(t, "Tag"), lambda t: "model Tag" not in t),
    # the renamed field maps the new column; the old one, kept in sync by the trigger, keeps its index
    ({"op": "rename_column", "table": "users", "column": "nick", "new_name": "handle"},
     lambda t: '  nick  String @map("handle")\n  flux_old_nick String? @map("nick") @ignore\n' in _model(t, "User")
     and "@@index([nick])" in t and "@@index([flux_old_nick])" in t,
     lambda t: '  nick  String @map("handle")\n' in _model(t, "User") and "flux_old" not in t
     and "@@index([nick])" in t),
    # a type change: the field keeps its type until the swap, the copy of the new type is ignored
    ({"op": "change_column_type", "table": "users", "column": "nick", "type": "varchar(50)"},
     lambda t: '  nick  String\n  flux_new_nick String? @db.VarChar(50) @map("nick_flux") @ignore\n' in _model(t, "User")
     and '@@index([flux_new_nick], map: "users_nick_idx_flux")' in t,
     lambda t: '  nick  String @db.VarChar(50)\n' in _model(t, "User") and "flux_new" not in t),
])
def test_a_drop_keeps_its_field_ignored_until_written(project, op, during, after, capsys):
    schema = project / "prisma" / "schema.prisma"
    assert main(["plan", "--project", str(project), "--op", json.dumps(op), "--write"]) == 0
    text = schema.read_text()
    assert during(text), text
    prisma_validate(schema)
    assert main(["continue", "--project", str(project)]) == 0
    if op["op"].startswith("drop_"):
        # The column (table) is set aside, its drop written once that ran: the field (model) maps the
        # set-aside one meanwhile, still ignored, its index's name pinned to the database's.
        text = schema.read_text()
        if op["op"] == "drop_column":
            assert '  nick  String? @ignore @map("flux_dropped_nick")\n' in _model(text, "User"), text
            assert '@@index([nick], map: "users_nick_idx")' in text, text
        else:
            assert f'@@map("flux_dropped_{op["table"]}")' in _model(text, op["table"]), text
            assert "@@ignore" in _model(text, op["table"]), text
        prisma_validate(schema)
        assert main(["continue", "--project", str(project)]) == 0
    text = schema.read_text()
    assert after(text), text
    assert "@ignore" not in text
    prisma_validate(schema)
    out = capsys.readouterr().out
    assert "prisma/schema.prisma" in out.split("Every step")[0]  # listed among the files continue wrote


@pytest.mark.node
@pytest.mark.node
@pytest.mark.parametrize("name, copy, final", [("users_nick_idx", "users_handle_idx", "users_handle_idx"),
                                               ("nick_lookup", "nick_lookup_flux", "nick_lookup")])
def test_a_renamed_fields_index_with_a_map_names_the_copy_meanwhile(project, capsys, name, copy, final):
    """documenso's `@@index([email, ...], map: "Recipient_email_..._idx")`: in the window the field maps
    the new column, whose index is the copy; the map kept the old index's name, which the ignored
    field's index took by Prisma's default too, and Prisma refused the schema (P1012: the constraint
    name has to be unique)."""
    schema = project / "prisma" / "schema.prisma"
    schema.write_text(SCHEMA.replace("@@index([nick])", f'@@index([nick], map: "{name}")'))
    init = project / "prisma" / "migrations" / "20240101000000_init" / "migration.sql"
    init.write_text(INIT.replace('"users_nick_idx"', f'"{name}"'))
    op = {"op": "rename_column", "table": "users", "column": "nick", "new_name": "handle"}
    assert main(["plan", "--project", str(project), "--op", json.dumps(op), "--write"]) == 0
    text = schema.read_text()
    assert f'@@index([nick], map: "{copy}")' in text and "@@index([flux_old_nick]" in text, text
    assert f'map: "{name}")' in text or name == "users_nick_idx", text  # the old column's index, where not the default
    prisma_validate(schema)
    assert main(["continue", "--project", str(project)]) == 0
    text = schema.read_text()
    assert "flux_old" not in text and (f'@@index([nick], map: "{final}")' in text), text
    prisma_validate(schema)
    capsys.readouterr()


@pytest.mark.node
def test_two_indexes_on_the_renamed_field_keep_theirs_apart(project, capsys):
    """documenso's email has a plain index and a GIN one (gin_trgm_ops) on the same field: the old
    field's copies were both unnamed, Prisma's one default name twice (P1012), and the map of the
    GIN one could go to the plain copy."""
    schema = project / "prisma" / "schema.prisma"
    schema.write_text(SCHEMA.replace("@@index([nick])", '@@index([nick])\n  @@index([nick(ops: raw("gin_trgm_ops"))], '
                                                         'map: "users_nick_trgm_idx", type: Gin)'))
    init = project / "prisma" / "migrations" / "20240101000000_init" / "migration.sql"
    init.write_text(INIT + 'CREATE INDEX "users_nick_trgm_idx" ON "users" USING gin ("nick" gin_trgm_ops);\n')
    op = {"op": "rename_column", "table": "users", "column": "nick", "new_name": "handle"}
    assert main(["plan", "--project", str(project), "--op", json.dumps(op), "--write"]) == 0
    text = schema.read_text()
    assert '@@index([nick(ops: raw("gin_trgm_ops"))], type: Gin, map: "users_nick_trgm_idx_flux")' in text, text
    assert '@@index([flux_old_nick(ops: raw("gin_trgm_ops"))], map: "users_nick_trgm_idx", type: Gin)' in text, text
    assert "@@index([nick])" in text and "@@index([flux_old_nick])" in text, text
    prisma_validate(schema)
    assert main(["continue", "--project", str(project)]) == 0
    text = schema.read_text()
    assert 'map: "users_nick_trgm_idx")' in text and "flux" not in text, text
    prisma_validate(schema)
    capsys.readouterr()


def test_a_field_edited_by_hand_in_between_is_left_alone(project, capsys):
    """The user removed the @ignore field by hand before `continue`: nothing of schema.prisma is
    written again (Flux edits what its window edit left, nothing else)."""
    schema = project / "prisma" / "schema.prisma"
    op = {"op": "drop_column", "table": "users", "column": "nick"}
    assert main(["plan", "--project", str(project), "--op", json.dumps(op), "--write"]) == 0
    by_hand = schema.read_text().replace("  nick  String? @ignore\n", "").replace("  @@index([nick])\n", "")
    schema.write_text(by_hand)
    assert main(["continue", "--project", str(project)]) == 0
    assert schema.read_text() == by_hand


ITEM = '''datasource db {
  provider = "postgresql"
}

model Item {
  id     Int                      @id @default(autoincrement())
  price  Float?
  search Unsupported("tsvector")?
}
'''
ITEM_INIT = '''CREATE TABLE "Item" ("id" SERIAL NOT NULL, "price" DOUBLE PRECISION, "search" tsvector,
  CONSTRAINT "Item_pkey" PRIMARY KEY ("id"));
'''


@pytest.mark.node
@pytest.mark.parametrize("op", [
    {"op": "change_column_type", "table": "Item", "column": "price", "type": "numeric"},  # a copy beside Unsupported
    {"op": "drop_column", "table": "Item", "column": "search"},
    {"op": "rename_column", "table": "Item", "column": "search", "new_name": "tsv"},
])
def test_an_unsupported_type_is_never_ignored(tmp_path, monkeypatch, capsys, op):
    """formbricks: Prisma refuses `@ignore` on a field of an Unsupported type ("Fields of type 'Unsupported'
    cannot take an '@ignore' attribute"), which the client leaves out anyway: the window's fields of that type
    stay as they are, and the contract still finds them."""
    monkeypatch.setenv("FLUX_DEVDB", "off")
    init = tmp_path / "prisma" / "migrations" / "20240101000000_init"
    init.mkdir(parents=True)
    (init / "migration.sql").write_text(ITEM_INIT)
    schema = tmp_path / "prisma" / "schema.prisma"
    schema.write_text(ITEM)
    prisma_validate(schema)
    assert main(["plan", "--project", str(tmp_path), "--op", json.dumps(op), "--write"]) == 0
    during = schema.read_text()
    assert 'Unsupported("' in during and not any("Unsupported(" in line and "@ignore" in line
                                                  for line in during.splitlines())
    prisma_validate(schema)
    assert main(["continue", "--project", str(tmp_path)]) == 0
    if op["op"] == "drop_column":  # set aside first: the field maps the set-aside column until its drop
        assert 'search Unsupported("tsvector")? @map("flux_dropped_search")' in schema.read_text()
        prisma_validate(schema)
        assert main(["continue", "--project", str(tmp_path)]) == 0
    after = schema.read_text()
    assert "flux_" not in after and "@ignore" not in after, after
    if op["op"] == "drop_column":
        assert "search" not in after
    prisma_validate(schema)
    capsys.readouterr()


@pytest.mark.node
@pytest.mark.parametrize("case", ["add_column_numeric", "change_column_type_numeric"])
def test_numeric_alone_is_a_decimal_prisma_accepts(tmp_path, case):
    """`numeric` without precision is written `Decimal @db.Decimal` (Prisma's introspection of it),
    which Prisma's validator accepts: the client keeps the field (Unsupported("numeric") dropped it)."""
    from flux_agent.write.code_changes import apply
    from tests.unit.write.test_prisma_schema_edits import GOLDEN, SCHEMA as EDITED

    schema = tmp_path / "schema.prisma"
    edited = apply(EDITED, (GOLDEN / f"{case}.diff").read_text())
    schema.write_text(edited.replace('  url      = env("DATABASE_URL")\n', ""))  # Prisma 7 takes it from its config
    assert "Decimal? @db.Decimal\n" in schema.read_text()
    prisma_validate(schema)


@pytest.mark.node
def test_a_field_made_required_stays_optional_until_its_not_null_is_written(tmp_path, monkeypatch, capsys):
    """hoppscotch's "make User.displayName required": schema.prisma said `String` from `plan --write`,
    before the NULLs were backfilled, and Prisma's client fails reading a row whose required field is
    NULL (P2032). The field stays `String?` until the write that holds the SET NOT NULL."""
    monkeypatch.setenv("FLUX_DEVDB", "off")
    prisma_project(tmp_path, INIT.replace('"nick" TEXT NOT NULL,', '"nick" TEXT NOT NULL, "bio" TEXT,'),
                   SCHEMA.replace("  nick  String\n", "  nick  String\n  bio   String?\n"))
    schema = tmp_path / "prisma" / "schema.prisma"
    op = {"op": "set_not_null", "table": "users", "column": "bio", "backfill": "''"}
    assert main(["plan", "--project", str(tmp_path), "--op", json.dumps(op), "--write"]) == 0

    def state():
        record = json.loads(next((tmp_path / ".flux" / "plans").glob("*.json")).read_text())
        return set(record["written"]), _model(schema.read_text(), "User"), record
    seen = [state()]
    while main(["continue", "--project", str(tmp_path)]) == 0:
        seen.append(state())
        prisma_validate(schema)
    capsys.readouterr()
    steps = seen[-1][2]["plan"]["steps"]
    not_null = min(s["number"] for s in steps if s["up_sql"] and "SET NOT NULL" in s["up_sql"])
    assert "  bio   String?\n" in seen[0][1], seen[0][1]
    # optional in every write before the one holding the SET NOT NULL, required from that one on
    assert all(("  bio   String\n" in text) == (not_null in written) for written, text, _ in seen), \
        [(sorted(w), t) for w, t, _ in seen]
    assert "  bio   String\n" in seen[-1][1]


def test_a_rollback_says_prisma_7s_db_execute_where_a_prisma_config_is(tmp_path, monkeypatch):
    """Prisma 7 reads the database from prisma.config.ts, and its `db execute` has no --schema
    (hoppscotch pins 7.8): the rollback instructions said `--schema prisma/schema.prisma`. With a config
    file, none; without one (Prisma 6 and before), the schema, as before."""
    from flux_agent.entry import actions

    monkeypatch.setenv("FLUX_DEVDB", "off")
    prisma_project(tmp_path)
    op = [{"op": "add_index", "table": "Tag", "columns": ["name"]}]

    def down() -> str:
        plan = actions.plan_migration(op, str(tmp_path))
        outcome = actions.write_migration(plan, str(tmp_path))
        text = (tmp_path / next(f for f in outcome.files if f.endswith("down.sql"))).read_text()
        for f in (f for f in outcome.files if "/migrations/" in f):
            (tmp_path / f).unlink()
        (tmp_path / "prisma" / "schema.prisma").write_text(SCHEMA)
        return text
    assert "npx prisma db execute --schema prisma/schema.prisma --file " in down()
    (tmp_path / "prisma.config.ts").write_text('export default { schema: "prisma/schema.prisma" };\n')
    said = down()
    assert "npx prisma db execute --file " in said and "--schema" not in said
