"""Which files of a folder `flux validate` takes (lint/files.py): SQL files, down files aside, and
program code a reader claims; the readers are loaded only for a file that could be program code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flux_agent.lint import readers
from flux_agent.lint.files import CODE_SUFFIXES, expand_paths


def test_a_folder_of_sql_and_other_files_is_walked_without_the_readers(tmp_path: Path):
    """A Prisma history (a folder per migration, a migration_lock.toml) and a README: no file there
    is program code, so the readers (~20 ms to load) are not loaded to say so."""
    folder = tmp_path / "migrations"
    for name in ("20240101000000_init", "20240102000000_more"):
        (folder / name).mkdir(parents=True)
        (folder / name / "migration.sql").write_text("CREATE TABLE t (id bigint);\n", encoding="utf-8")
    (folder / "migration_lock.toml").write_text('provider = "postgresql"\n', encoding="utf-8")
    (folder / "README.md").write_text("# migrations\n", encoding="utf-8")
    (folder / "001_x.down.sql").write_text("DROP TABLE t;\n", encoding="utf-8")
    probe = ("import sys; from flux_agent.lint.files import expand_paths; "
             f"print([p.name for p in expand_paths([{str(folder)!r}])]); "
             "print('flux_agent.lint.readers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["['migration.sql', 'migration.sql']", "False"]


def test_program_code_beside_sql_is_read_by_its_reader(tmp_path: Path):
    (tmp_path / "001_a.sql").write_text("CREATE TABLE t (id bigint);\n", encoding="utf-8")
    (tmp_path / "20240101000000_add.js").write_text(
        "exports.up = function (knex) { return knex.raw('ALTER TABLE t ADD COLUMN c text'); };\n"
        "exports.down = function (knex) { return knex.raw('ALTER TABLE t DROP COLUMN c'); };\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("exports.up = knex.raw('x')\n", encoding="utf-8")
    assert [p.name for p in expand_paths([str(tmp_path)])] == ["001_a.sql", "20240101000000_add.js"]


def test_every_reader_reads_only_endings_the_walk_takes():
    """The walk passes over a file whose ending is not in CODE_SUFFIXES without asking a reader:
    a reader of another ending would never see a folder's files (its loader refuses one)."""
    assert readers.READERS and all(set(r.suffixes) <= set(CODE_SUFFIXES) for r in readers.READERS)
    assert {s for r in readers.READERS for s in r.suffixes} == set(CODE_SUFFIXES)


def test_a_file_named_as_a_migration_is_listed_though_no_reader_claims_it(tmp_path: Path):
    """kutt's knex files (`async function up(knex)` with `module.exports = { up, down }`) were claimed
    by no reader: a folder's validate passed them over without a word, and with Flux's own files
    beside them said "3 file(s) checked, 0 with findings". A file named as migrations are is listed,
    to be read or said not analysed; the folder's other code (an index.js) is not."""
    (tmp_path / "20240101000000_add.js").write_text("// a migration no reader knows the form of\n", encoding="utf-8")
    (tmp_path / "index.js").write_text("module.exports = require('./all');\n", encoding="utf-8")
    (tmp_path / "__init__.py").write_text("", encoding="utf-8")
    assert [p.name for p in expand_paths([str(tmp_path)])] == ["20240101000000_add.js"]


def test_a_knex_migration_made_by_another_module_and_the_sql_it_reads(tmp_path: Path):
    """ODK Central's knex migrations `module.exports = require('../pure-sql-migration')(__filename)`,
    whose up runs the NNN-01.up.sql files beside them: the migration is read by the knex reader (it was
    "neither SQL nor a migration"), the SQL files are not judged alone (without the tables the
    history made: false unknown-table errors). An index.js gathering modules is not a migration."""
    from flux_agent.lint.readers import knex, reader_for

    folder = tmp_path / "migrations"
    folder.mkdir()
    made = "module.exports = require('../pure-sql-migration')(__filename);\n"
    (folder / "20250927-01-geo.js").write_text(made, encoding="utf-8")
    (folder / "20250927-01-geo-01.up.sql").write_text("ALTER TABLE t ADD COLUMN g int;\n", encoding="utf-8")
    (folder / "20250927-01-geo-01.down.sql").write_text("ALTER TABLE t DROP COLUMN g;\n", encoding="utf-8")
    (folder / "index.js").write_text("module.exports = require('./all');\n", encoding="utf-8")
    assert reader_for(folder / "20250927-01-geo.js", made, "knex") is knex.READER
    assert reader_for(folder / "index.js", made, "knex") is None and reader_for(folder / "1.js", made) is None
    assert [p.name for p in expand_paths([str(folder)], "knex")] == ["20250927-01-geo.js"]
    # Without a tool that runs program code only, the SQL files are migrations of their own.
    assert [p.name for p in expand_paths([str(folder)], "node-pg-migrate")] == ["20250927-01-geo-01.up.sql",
                                                                                "20250927-01-geo.js"]
    assert [p.name for p in expand_paths([str(folder / "20250927-01-geo-01.up.sql")], "knex")] == [
        "20250927-01-geo-01.up.sql"]  # a file given is judged


def test_goose_go_migrations_are_listed_and_said_not_analysed(tmp_path: Path):
    """hatchet's nine Go migrations beside its SQL ones went unsaid by `flux validate <folder>` (given
    alone, one was not-analysed): each is listed in its place and said not analysed, as goose's own."""
    from flux_agent.entry.validate import validate_paths

    (tmp_path / "00001_a.sql").write_text("-- +goose Up\nCREATE TABLE a (id bigint);\n-- +goose Down\nDROP TABLE a;\n")
    (tmp_path / "00002_b.go").write_text("package m\nfunc init() { goose.AddMigration(up, down) }\n")
    (tmp_path / "00003_b_test.go").write_text("package m\n")
    (tmp_path / "helpers.go").write_text("package m\n")
    assert [p.name for p in expand_paths([str(tmp_path)], "goose")] == ["00001_a.sql", "00002_b.go"]
    _, found = validate_paths([str(tmp_path)], str(tmp_path))
    assert [(Path(f.path).name, f.rule) for f in found] == [("00002_b.go", "not-analysed")]
    assert "a goose migration in Go" in found[0].message


def test_knex_files_in_kutts_form_are_claimed_by_the_knex_reader():
    from flux_agent.lint.readers import knex

    exported = "async function up(knex) {\n  await knex.raw('SELECT 1');\n}\n\nasync function down() {}\n\n" \
               "module.exports = {\n  up,\n  down,\n};\n"
    methods = "module.exports = {\n  async up(knex) {\n    await knex.raw('SELECT 1');\n  },\n  async down() {},\n};\n"
    assert knex.claims(exported) and knex.claims(methods)
    assert [r.tool for r in readers.READERS if r.claims(exported)] == ["knex"]


def test_a_project_s_virtualenv_is_not_walked(tmp_path: Path):
    """healthchecks' `flux validate .` judged the migrations of the packages in its .venv (Django's own,
    and its loader.py, not analysed): a folder given is walked without its virtualenvs."""
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "001_init.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY);\n", encoding="utf-8")
    for env in (".venv/lib/python3.11/site-packages/pkg/migrations", "venv/lib/pkg/migrations"):
        (tmp_path / env).mkdir(parents=True)
        (tmp_path / env / "0001_x.sql").write_text("ALTER TABLE t DROP COLUMN x;\n", encoding="utf-8")
    assert [p.relative_to(tmp_path).as_posix() for p in expand_paths([str(tmp_path)])] == ["db/001_init.sql"]
