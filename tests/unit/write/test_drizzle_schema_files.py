"""Which files hold a drizzle schema: drizzle.config's `schema` (a file, a folder, a glob, a list)
and the files those re-export from, as drizzle-kit reads them; and a dropped table's re-export."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.write.tools._drizzle_schema_files import drop_reexport, schema_files


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
    assert drop_reexport(text, index, "todo", target) == (
        'export {\n  account,\n  users as user,\n} from "./auth";\nexport { status } from "./todo.js";\n')
    assert drop_reexport(text, index, "users", tmp_path / "auth.ts").startswith('export {\n  account,\n} from')
    assert drop_reexport(text, index, "status", target).endswith('export { todo as t2 } from "./todo.js";\n')
    assert drop_reexport(text, index, "other", target) == text


def test_schema_files_of_a_package_config(tmp_path):
    """A monorepo's config in its package (dokploy: `--config packages/db/drizzle.config.ts`): found
    from the migrations folder, its paths read from the package's folder."""
    pkg = tmp_path / "packages" / "db"
    _project(pkg, '"./src/schema.ts"', {"src/schema.ts": TABLE, "package.json": "{}"})
    assert schema_files(tmp_path) == ([], "no drizzle.config.ts in the project")
    assert schema_files(tmp_path, Path("packages/db/drizzle")) == (["packages/db/src/schema.ts"], "")
