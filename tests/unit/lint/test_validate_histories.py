"""Which history a file given to `flux validate` is judged in (entry/validate.py): a file of the
project's migrations folder, however its path reaches it (a symlinked folder, a symlink to the
file, a relative or absolute path), is judged against the migrations before it, offline; only a
file outside the folder is a change proposed on top of the project's schema."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flux_agent.entry import validate as validate_mod

_FILES = {
    "001_a.sql": "CREATE TABLE a (id bigint PRIMARY KEY);\n-- migrate:down\nDROP TABLE a;\n",
    # Table b comes in 003: judged before it, this file names a table not yet there.
    "002_b.sql": "SET lock_timeout = '1s';\nSET statement_timeout = '5s';\nALTER TABLE b ADD COLUMN note text;\n"
                 "-- migrate:down\nALTER TABLE b DROP COLUMN note;\n",
    "003_b.sql": "CREATE TABLE b (id bigint PRIMARY KEY);\n-- migrate:down\nDROP TABLE b;\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "p" / "db" / "migrations"
    folder.mkdir(parents=True)
    for name, text in _FILES.items():
        (folder / name).write_text("-- migrate:up\n" + text, encoding="utf-8")
    (tmp_path / "alias").symlink_to(folder, target_is_directory=True)
    (tmp_path / "linked.sql").symlink_to(folder / "002_b.sql")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")

    def proposed(*_):  # a member taken for a proposed change would need the dev database
        raise AssertionError("judged as a change proposed on top of the project")

    monkeypatch.setattr(validate_mod, "current_schema", proposed)
    return tmp_path / "p"


@pytest.mark.parametrize("given", ["p/db/migrations/002_b.sql", "alias/002_b.sql", "linked.sql",
                                   "./p/db/../db/migrations/002_b.sql", "ABSOLUTE"])
def test_a_member_is_judged_before_the_migrations_after_it(project, given):
    path = str(project / "db" / "migrations" / "002_b.sql") if given == "ABSOLUTE" else given
    files, findings = validate_mod.validate_paths([path], str(project))
    assert [os.fspath(f) for f in files] == [str(Path(path))]
    assert [(f.rule, f.line) for f in findings] == [("unknown-table-or-column", 4)]
    assert all(f.path == str(Path(path)) for f in findings)


def test_a_file_outside_the_folder_is_a_proposed_change(project, tmp_path):
    outside = tmp_path / "004_c.sql"
    outside.write_text("-- migrate:up\nCREATE TABLE c (id bigint PRIMARY KEY);\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="proposed on top of the project"):
        validate_mod.validate_paths([str(outside)], str(project))


def test_a_folder_resolves_as_realpath_does(tmp_path, monkeypatch):
    """The resolver takes a folder's real path from its parent's and one lstat of its own (a Prisma
    history is hundreds of folders side by side); through links, `..` and missing paths it says
    what os.path.realpath says."""
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "lnk").symlink_to(tmp_path / "a" / "b", target_is_directory=True)
    (tmp_path / "a" / "up").symlink_to("..", target_is_directory=True)  # a link to a folder above
    monkeypatch.chdir(tmp_path)
    resolve = validate_mod._Resolver()
    for path in ["a/b/c", "lnk/c", "lnk", "a/up/x/y", "a/up/lnk/c", "a/../x/y", "x/y/", ".", "", "gone/z",
                 str(tmp_path / "lnk" / "c"), "a/b/../../x", "lnk/../c"]:
        assert resolve.folder(path) == os.path.realpath(path or "."), path


def test_a_prisma_history_validated_by_path_is_one_history(tmp_path, monkeypatch):
    """Prisma keeps each migration in a folder of its own (<stamp>_<name>/migration.sql). Given by
    path with no project around it, each file is judged after the ones before it, as in the
    Prisma project itself, not alone in its own folder (where the second could not know the
    column it retypes)."""
    def prisma(root: Path) -> Path:
        folder = root / "prisma" / "migrations"
        for name, sql in (("20240101000000_init", 'CREATE TABLE "Step" ("id" TEXT NOT NULL, "ts" INTEGER NOT NULL);\n'),
                          ("20240102000000_ts_text", 'ALTER TABLE "Step" ALTER COLUMN "ts" SET DATA TYPE TEXT;\n')):
            (folder / name).mkdir(parents=True)
            (folder / name / "migration.sql").write_text(sql, encoding="utf-8")
        (folder / "migration_lock.toml").write_text('provider = "postgresql"\n', encoding="utf-8")
        return folder

    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    alone = prisma(tmp_path / "alone")
    (tmp_path / "app" / "prisma").mkdir(parents=True)
    prisma(tmp_path / "app")
    (tmp_path / "app" / "prisma" / "schema.prisma").write_text(
        'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n', encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    _, by_path = validate_mod.validate_paths([str(alone)], None)
    monkeypatch.chdir(tmp_path / "app")
    _, by_project = validate_mod.validate_paths(["prisma/migrations"], None)

    def said(findings, folder):
        return [(os.path.relpath(f.path, folder), f.line, f.rule, f.message) for f in findings]

    assert said(by_path, alone) == said(by_project, "prisma/migrations")
    retyped = [f.message for f in by_path if f.rule == "changing-column-type"]
    assert retyped and "integer -> text" in retyped[0], retyped
    # A file that happens to be called migration.sql among others of a plain folder stays in it.
    plain = tmp_path / "plain" / "sql"
    plain.mkdir(parents=True)
    (plain / "001_init.sql").write_text('CREATE TABLE "Step" ("id" TEXT, "ts" INTEGER);\n', encoding="utf-8")
    (plain / "migration.sql").write_text('ALTER TABLE "Step" ALTER COLUMN "ts" SET DATA TYPE TEXT;\n',
                                         encoding="utf-8")
    monkeypatch.chdir(tmp_path / "elsewhere")
    _, in_plain = validate_mod.validate_paths([str(plain / "migration.sql")], None)
    assert any("integer -> text" in f.message for f in in_plain), [f.message for f in in_plain]


def test_a_folders_files_are_said_in_the_order_the_tool_runs_them(tmp_path, monkeypatch):
    """golang-migrate runs 1_, 2_, ... 11_ by number (flipt's folder): the findings came out as the
    names sort (11_ before 1_), so a reader met a later migration's problem first."""
    folder = tmp_path / "p" / "migrations"
    folder.mkdir(parents=True)
    for n in (1, 2, 11):
        (folder / f"{n}_t{n}.up.sql").write_text(f"CREATE TABLE t{n} (id int);\n", encoding="utf-8")
        (folder / f"{n}_t{n}.down.sql").write_text(f"DROP TABLE t{n};\n", encoding="utf-8")
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    files, findings = validate_mod.validate_paths([str(folder)], str(tmp_path / "p"))
    assert [f.name for f in files] == ["1_t1.up.sql", "2_t2.up.sql", "11_t11.up.sql"]
    assert [Path(f.path).name for f in findings] == ["1_t1.up.sql", "2_t2.up.sql", "11_t11.up.sql"]


@pytest.mark.parametrize("tool, names", [
    ("golang-migrate", ["1_users.up.sql", "02_email.up.sql", "2_nick.up.sql"]),
    ("goose", ["00001_users.sql", "00002_email.sql", "2_nick.sql"]),
    ("flyway", ["V1__users.sql", "V1.1__email.sql", "V1_1_0__nick.sql"]),
])
def test_two_migrations_of_one_version_are_said(tmp_path, monkeypatch, tool, names):
    """Two branches merged, each with its own new migration of the next version: golang-migrate,
    goose and Flyway refuse the folder ("duplicate migration"), and nothing said so before deploy.
    The later file carries an error naming the earlier one; a clean folder says nothing of it."""
    folder = tmp_path / "p" / "migrations"
    folder.mkdir(parents=True)
    up = "-- +goose Up\n" if tool == "goose" else ""
    for name, table in zip(names, ("users", "email", "nick")):
        (folder / name).write_text(f"{up}CREATE TABLE {table} (id bigint PRIMARY KEY);\n", encoding="utf-8")
    (tmp_path / "p" / ".flux.yaml").write_text(f"tool: {tool}\nmigrations_dir: migrations\n", encoding="utf-8")
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    _, findings = validate_mod.validate_paths([str(folder)], str(tmp_path / "p"))
    twice = [(Path(f.path).name, f.message.split(" has ")[0]) for f in findings if f.rule == "duplicate-version"]
    assert twice == [(names[2], names[1])]
    (folder / names[2]).unlink()
    _, findings = validate_mod.validate_paths([str(folder)], str(tmp_path / "p"))
    assert [f for f in findings if f.rule == "duplicate-version"] == []


def test_a_down_part_that_fails_is_said_at_its_line(tmp_path, monkeypatch):
    """upchieve's down parts that PostgreSQL refuses (DROP COLUMN IF NOT EXISTS; a down marker inside
    the up's last statement) and a golang-migrate down file dropping an index CONCURRENTLY beside a SET
    (one query: a transaction block) were never read: the rollback would fail when it is needed."""
    folder = tmp_path / "p" / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "001_a.sql").write_text("-- migrate:up\nCREATE TABLE a (id bigint PRIMARY KEY, note text);\n\n"
                                      "-- migrate:down\nALTER TABLE a\n  DROP COLUMN IF NOT EXISTS note;\n")
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    _, findings = validate_mod.validate_paths([str(folder)], str(tmp_path / "p"))
    [down] = [f for f in findings if f.rule == "down-fails"]
    assert (down.line, down.severity) == (5, "error") and "does not parse" in down.message
    gm = tmp_path / "g" / "migrations"
    gm.mkdir(parents=True)
    (gm / "1_idx.up.sql").write_text("CREATE INDEX CONCURRENTLY a_note_idx ON a (note);\n")
    (gm / "1_idx.down.sql").write_text("SET lock_timeout = '1s';\nDROP INDEX CONCURRENTLY IF EXISTS a_note_idx;\n")
    _, findings = validate_mod.validate_paths([str(gm)], str(tmp_path / "g"))
    [down] = [f for f in findings if f.rule == "down-fails"]
    assert down.line == 1 and down.message.startswith("DROP INDEX CONCURRENTLY cannot run in a transaction block")
