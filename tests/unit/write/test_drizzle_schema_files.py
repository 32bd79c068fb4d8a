"""Which files hold a drizzle schema: drizzle.config's `schema` (a file, a folder, a glob, a list)
and the files those re-export from, as drizzle-kit reads them; and a dropped table's re-export."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.write.tools._drizzle_schema_files import drop_reexport, schema_files
from flux_agent.project.ts_tokens import tokenize_ts


def _project(root: Path, schema: str, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "drizzle.config.ts").write_text(f'export default defineConfig({{ schema: {schema}, out: "./drizzle" }});\n')
    return root


TABLE = 'export const t = pgTable("t", { id: serial("id") });\n'


@pytest.mark.parametrize("schema, want", [
    ('"./src/db/index.ts"', ["src/db/index.ts", "src/db/a.ts", "src/db/b.ts", "src/db/sub/index.ts",
                             "src/db/sub/c.ts"]),
    # a folder's own files (not its folders', nor a .d.ts), then what they re-export
    ('"./src/db"', ["src/db/a.ts", "src/db/b.ts", "src/db/index.ts", "src/db/sub/index.ts", "src/db/sub/c.ts"]),
    ('"./src/db/*.ts"', ["src/db/a.ts", "src/db/b.ts", "src/db/index.ts", "src/db/sub/index.ts",
                         "src/db/sub/c.ts"]),
    ('["./src/db/b.ts", "./src/other.ts"]', ["src/db/b.ts", "src/other.ts"]),
])
def test_schema_files_follow_config_and_reexports(tmp_path, schema, want):
    _project(tmp_path, schema, {
        "src/db/index.ts": 'export * from "./a";\nexport { t as b } from "./b.js";\nexport * as c from "./sub";\n'
                           'export { x } from "drizzle-orm";\n',
        "src/db/a.ts": TABLE, "src/db/b.ts": TABLE, "src/db/sub/index.ts.bak": "", "src/db/sub/c.ts": TABLE,
        "src/db/sub/index.ts": 'export * from "./c";\n', "src/db/types.d.ts": "", "src/other.ts": TABLE,
    })
    got, why = schema_files(tmp_path)
    assert why == ""
    assert got == want


def test_schema_files_say_why_not(tmp_path):
    assert schema_files(tmp_path) == ([], "no drizzle.config.ts in the project")
    _project(tmp_path, '"./src/missing.ts"', {})
    assert schema_files(tmp_path)[1] == "drizzle.config.ts names schema ./src/missing.ts, which does not exist"
    _project(tmp_path, "process.env.SCHEMA", {})
    assert "by an expression" in schema_files(tmp_path)[1]
    _project(tmp_path, '"./src/{a,b}.ts"', {})
    assert "brace pattern" in schema_files(tmp_path)[1]


def test_drop_reexport(tmp_path):
    index, target = tmp_path / "index.ts", tmp_path / "todo.ts"
    target.write_text(TABLE)
    (tmp_path / "auth.ts").write_text(TABLE)
    text = ('export {\n  account,\n  users as user,\n} from "./auth";\nexport { todo } from "./todo";\n'
            'export { todo as t2, status } from "./todo.js";\n')
    assert drop_reexport(text, index, "todo", target, tmp_path) == (
        'export {\n  account,\n  users as user,\n} from "./auth";\nexport { status } from "./todo.js";\n')
    assert drop_reexport(text, index, "users", tmp_path / "auth.ts", tmp_path).startswith('export {\n  account,\n} from')
    assert drop_reexport(text, index, "status", target, tmp_path).endswith('export { todo as t2 } from "./todo.js";\n')
    assert drop_reexport(text, index, "other", target, tmp_path) == text


def test_schema_files_of_a_package_config(tmp_path):
    """A monorepo's config in its package (`--config packages/db/drizzle.config.ts`): found below
    the project, its paths read from the package's folder."""
    pkg = tmp_path / "packages" / "db"
    _project(pkg, '"./src/schema.ts"', {"src/schema.ts": TABLE, "package.json": "{}"})
    assert schema_files(tmp_path) == (["packages/db/src/schema.ts"], "")
    assert schema_files(tmp_path, Path("packages/db/drizzle")) == (["packages/db/src/schema.ts"], "")


def test_schema_files_of_a_config_below_its_package_through_a_tsconfig_alias(tmp_path):
    """dokploy: apps/dokploy/server/db/drizzle.config.ts (out: "drizzle", from the package's folder)
    names an index.ts that re-exports a workspace package through tsconfig's `paths`; a scratch
    config in a dot-folder is not the project's."""
    app = tmp_path / "apps" / "web"
    _project(app / "server" / "db", '"./server/db/schema/index.ts"', {
        "schema/index.ts": 'export * from "@acme/server/db/schema";\n'})
    (app / "server" / "db" / "drizzle.config.ts").write_text(
        'export default { schema: "./server/db/schema/index.ts", out: "drizzle" };\n')
    (app / "package.json").write_text("{}")
    (app / "tsconfig.json").write_text('{\n  // aliases\n  "compilerOptions": {\n    "paths": {\n'
                                       '      "@/*": ["./*"],\n      "@acme/server/*": ["../../packages/server/src/*"],\n'
                                       '    },\n  },\n}\n')
    server = tmp_path / "packages" / "server" / "src" / "db" / "schema"
    server.mkdir(parents=True)
    (server / "index.ts").write_text('export * from "./a";\nexport * from "./utils";\n')
    (server / "a.ts").write_text(TABLE)
    # a regular expression holding a quote and a backtick (dokploy's password pattern)
    (server / "utils.ts").write_text("export const ok =\n\t/^[a-z0-9@#%^&*()_+\\-=[\\]{}|;:,.<>?~`'\"]*$/;\n")
    (tmp_path / ".scratch").mkdir()
    (tmp_path / ".scratch" / "drizzle.config.ts").write_text('export default { schema: "./x.ts", out: "drizzle" };\n')
    got, why = schema_files(tmp_path, Path("apps/web/drizzle"))
    assert (got, why) == (["apps/web/server/db/schema/index.ts", "packages/server/src/db/schema/index.ts",
                           "packages/server/src/db/schema/a.ts", "packages/server/src/db/schema/utils.ts"], "")


@pytest.mark.parametrize("src, kinds", [
    ("const r = /a`b'c\\/[/]x/gi;", ["ident", "ident", "punct", "regex", "punct"]),
    ("const half = a / 2 / b;", ["ident", "ident", "punct", "ident", "punct", "ident", "punct", "ident", "punct"]),
    ("f(x) / 2", ["ident", "punct", "ident", "punct", "punct", "ident"]),
])
def test_tokenizer_reads_regular_expressions(src, kinds):
    assert [t.kind for t in tokenize_ts(src)] == kinds


def test_migrations_table_from_the_config(tmp_path):
    """dokploy's config records runs in public.migrations (`migrations: { table, schema }`); the
    rollback files' DELETE and `flux status` read that table, not drizzle's default; the nested
    `schema:` is not the schema file's."""
    from flux_agent.project.drizzle_config import migrations_table

    assert migrations_table(tmp_path) == ("drizzle", "__drizzle_migrations")  # no config
    _project(tmp_path, '"./src/schema.ts"', {"src/schema.ts": TABLE})
    assert migrations_table(tmp_path) == ("drizzle", "__drizzle_migrations")
    (tmp_path / "drizzle.config.ts").write_text(
        'export default defineConfig({ migrations: { table: "migrations", schema: "public" },\n'
        '  schema: "./src/schema.ts", out: "./drizzle" });\n')
    assert migrations_table(tmp_path) == ("public", "migrations")
    assert schema_files(tmp_path) == (["src/schema.ts"], "")
