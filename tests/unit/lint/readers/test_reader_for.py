"""Which reader reads a program-code migration: the one that claims its text, and where none does,
the project's tool's when the text has that tool's shape (an `up`)."""

from pathlib import Path

from flux_agent.lint.readers import reader_for

# outline's data migrations: sequelize-cli runs them, they name no queryInterface (they run a built script).
SCRIPT_ONLY = """"use strict";
const { execSync } = require("child_process");

module.exports = {
  async up() {
    execSync(`node ${process.cwd()}/build/server/scripts/backfill.js`, { stdio: "inherit" });
  },
  async down() {},
};
"""


def test_a_file_no_reader_claims_is_the_project_tool_s_where_it_has_an_up():
    path = Path("server/migrations/20230815063834-migrate-emoji.js")
    assert reader_for(path, SCRIPT_ONLY, None) is None  # no tool known: not guessed
    assert reader_for(path, SCRIPT_ONLY, "sequelize").tool == "sequelize"
    assert reader_for(path, SCRIPT_ONLY, "knex").tool == "knex"
    assert reader_for(path, SCRIPT_ONLY, "alembic") is None  # (a Python tool's reader reads no .js)
    assert reader_for(path, "module.exports = { helper() {} };\n", "sequelize") is None  # no up: not a migration
    assert reader_for(Path("helpers.py"), SCRIPT_ONLY, "sequelize") is None


def test_a_claimed_file_keeps_its_claim_whatever_the_project_s_tool():
    knex = "exports.up = async function (knex) { await knex.schema.createTable('t', () => {}); };\n"
    assert reader_for(Path("m.js"), knex, "sequelize").tool == "knex"
