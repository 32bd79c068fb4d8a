"""A written JavaScript/TypeScript migration follows the project's layout (quotes, indentation) where its
formatter cannot run: from its formatter's config (prettier, oxfmt, Biome), else its newest migration;
the SQL in template literals is left as it is."""

from __future__ import annotations

import json

from flux_agent.write.tools._js_style import JsStyle, js_style, restyle

WRITTEN = ('import { MigrationInterface, QueryRunner } from "typeorm";\n\nexport class A1 implements MigrationInterface {\n'
           '    name = "A1";\n\n    public async up(queryRunner: QueryRunner): Promise<void> {\n'
           '        await queryRunner.query(`CREATE TABLE t (\n    a "text"\n)`);\n    }\n}\n')
# As the Sequelize writer makes it: two spaces, a single-quoted directive.
SEQUELIZE = ("'use strict';\n\nmodule.exports = {\n  async up(queryInterface) {\n"
             "    await queryInterface.sequelize.query(`SELECT 'x'\n  FROM t`);\n  },\n};\n")


def test_the_style_comes_from_the_formatter_s_config_then_the_newest_migration(tmp_path):
    (tmp_path / "migrations").mkdir()
    assert js_style(tmp_path, "migrations") is None  # nothing tells: the writer's own layout stays
    (tmp_path / "migrations" / "1700000000000-Init.ts").write_text("export class X {\n\tname = 'X';\n}\n")
    assert js_style(tmp_path, "migrations") == JsStyle(single=True, indent="\t")
    (tmp_path / ".prettierrc").write_text(json.dumps({"singleQuote": True, "tabWidth": 2}))
    assert js_style(tmp_path, "migrations") == JsStyle(single=True, indent="  ")
    (tmp_path / ".prettierrc").unlink()
    (tmp_path / "package.json").write_text(json.dumps({"prettier": {"useTabs": False}}))
    assert js_style(tmp_path, "migrations") == JsStyle(single=False, indent="  ")
    (tmp_path / "package.json").unlink()
    (tmp_path / ".oxfmtrc.json").write_text(json.dumps({"useTabs": True}))
    assert js_style(tmp_path, "migrations") == JsStyle(single=False, indent="\t")
    (tmp_path / ".oxfmtrc.json").unlink()
    (tmp_path / "biome.json").write_text(json.dumps({"javascript": {"formatter": {"quoteStyle": "single"}}}))
    assert js_style(tmp_path, "migrations") == JsStyle(single=True, indent="\t")  # Biome indents with tabs
    (tmp_path / "biome.json").write_text(json.dumps({"formatter": {"indentStyle": "space", "indentWidth": 4}}))
    assert js_style(tmp_path, "migrations") == JsStyle(single=False, indent="    ")


def test_a_block_comment_s_lines_are_not_the_indentation(tmp_path):
    """stacks' newest migration opens with a `/** ... */` comment whose ` * ` lines sit one space in:
    read as the indentation, every line Flux wrote was one space deep (the project's is two)."""
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "1700000000000_blocks.ts").write_text(
        "/**\n * Adds an index.\n */\nexport async function up(pgm: MigrationBuilder): Promise<void> {\n"
        "  pgm.createIndex('blocks', 'block_time');\n}\n")
    assert js_style(tmp_path, "migrations") == JsStyle(single=True, indent="  ")


def test_a_written_file_in_the_project_s_style_keeps_its_sql():
    out = restyle(WRITTEN, JsStyle(single=True, indent="  "))
    assert out.startswith("import { MigrationInterface, QueryRunner } from 'typeorm';\n")
    assert "  name = 'A1';\n\n  public async up(" in out
    assert "    await queryRunner.query(`CREATE TABLE t (\n    a \"text\"\n)`);\n  }\n}\n" in out  # SQL as it was
    assert restyle(WRITTEN, JsStyle()) == WRITTEN


def test_the_writer_s_own_layout_is_read_from_the_file():
    """Sequelize's file (two spaces, single quotes) to four spaces and double quotes; the SQL's own
    indentation and quotes inside the template stay."""
    out = restyle(SEQUELIZE, JsStyle(single=False, indent="    "))
    assert out.startswith('"use strict";\n\nmodule.exports = {\n    async up(queryInterface) {\n'
                          "        await queryInterface.sequelize.query(`SELECT 'x'\n  FROM t`);\n    },\n};\n")
    assert restyle(SEQUELIZE, JsStyle(single=True, indent="  ")) == SEQUELIZE


def test_quotes_follow_prettier_s_rule():
    """The preferred quote unless the value holds more of it than of the other; odd escapes left alone."""
    assert restyle('x = "it\'s";\n', JsStyle(single=True)) == 'x = "it\'s";\n'
    assert restyle("x = 'say \"hi\"';\n", JsStyle(single=False)) == "x = 'say \"hi\"';\n"
    assert restyle("x = 'a\\\\b';\n", JsStyle(single=False)) == 'x = "a\\\\b";\n'
    assert restyle('x = "a\\u00e9";\n', JsStyle(single=True)) == 'x = "a\\u00e9";\n'
    assert restyle('x = "it\'s \\"q\\" \\"r\\"";\n', JsStyle(single=True)) == "x = 'it\\'s \"q\" \"r\"';\n"


def test_a_project_without_semicolons_gets_a_file_without_them(tmp_path):
    """Flowise's prettier config (package.json: semi false) and its migrations end no statement with
    `;`: Flux's file, written where prettier is not installed, ended every one with it."""
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "1700000000000-Init.ts").write_text(
        "import { MigrationInterface, QueryRunner } from 'typeorm'\n\nexport class Init1700000000000 implements "
        "MigrationInterface {\n    public async up(queryRunner: QueryRunner): Promise<void> {\n"
        "        await queryRunner.query(`CREATE TABLE t (a int);`)\n    }\n}\n")
    assert js_style(tmp_path, "migrations") == JsStyle(single=True, indent="    ", semi=False)
    (tmp_path / "package.json").write_text(json.dumps({"prettier": {"semi": False, "singleQuote": True,
                                                                    "tabWidth": 4}}))
    assert js_style(tmp_path, "migrations") == JsStyle(single=True, indent="    ", semi=False)
    out = restyle(WRITTEN, JsStyle(single=True, indent="    ", semi=False))
    assert out.startswith("import { MigrationInterface, QueryRunner } from 'typeorm'\n")
    assert "    name = 'A1'\n" in out and "`CREATE TABLE t (\n    a \"text\"\n)`)\n" in out  # the SQL as it was
    assert ";" not in out.replace("`CREATE TABLE t (\n    a \"text\"\n)`", "")
