"""A written JavaScript/TypeScript migration follows the project's layout (quotes, indentation): from its
prettier config, else its newest migration; the SQL in template literals is left as it is."""

from __future__ import annotations

import json

from flux_agent.write.tools._js_style import JsStyle, js_style, restyle

WRITTEN = ('import { MigrationInterface, QueryRunner } from "typeorm";\n\nexport class A1 implements MigrationInterface {\n'
           '    name = "A1";\n\n    public async up(queryRunner: QueryRunner): Promise<void> {\n'
           '        await queryRunner.query(`CREATE TABLE t (\n    a "text"\n)`);\n    }\n}\n')


def test_the_style_comes_from_prettier_then_the_newest_migration(tmp_path):
    (tmp_path / "migrations").mkdir()
    assert js_style(tmp_path, "migrations") == JsStyle()
    (tmp_path / "migrations" / "1700000000000-Init.ts").write_text("export class X {\n\tname = 'X';\n}\n")
    assert js_style(tmp_path, "migrations") == JsStyle(single=True, indent="\t")
    (tmp_path / ".prettierrc").write_text(json.dumps({"singleQuote": True, "tabWidth": 2}))
    assert js_style(tmp_path, "migrations") == JsStyle(single=True, indent="  ")
    (tmp_path / ".prettierrc").unlink()
    (tmp_path / "package.json").write_text(json.dumps({"prettier": {"useTabs": False}}))
    assert js_style(tmp_path, "migrations") == JsStyle(single=False, indent="  ")


def test_a_written_file_in_the_project_s_style_keeps_its_sql():
    out = restyle(WRITTEN, JsStyle(single=True, indent="  "))
    assert out.startswith("import { MigrationInterface, QueryRunner } from 'typeorm';\n")
    assert "  name = 'A1';\n\n  public async up(" in out
    assert "    await queryRunner.query(`CREATE TABLE t (\n    a \"text\"\n)`);\n  }\n}\n" in out  # SQL as it was
    assert restyle(WRITTEN, JsStyle()) == WRITTEN
    assert restyle('x = "it\'s";\n', JsStyle(single=True)) == "x = 'it\\'s';\n"
