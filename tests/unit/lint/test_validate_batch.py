"""flux validate over a folder (lint/batch.py): judged in worker processes and served from the
content-hash cache, the findings are exactly those of one process judging the files one by one
with no cache; a changed file, a changed history before a file (its schema) or changed rule code
is judged again, never served stale."""

from __future__ import annotations

import gc
import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from shop import MIGRATIONS, ROOT, shop_schema

from flux_agent.entry.validate import validate_paths
from flux_agent.lint import batch
from flux_agent.lint import cache as cache_mod
from flux_agent.lint.engine import validate_file
from flux_agent.lint.rules import require_lock_timeout
from flux_agent.model.settings import Settings
from flux_agent.schema.migration_files import up_sql_of

CORPUS = ROOT / "tests" / "corpus"


def corpus_folder(tmp_path: Path) -> Path:
    """The corpus, unsafe and safe files in one folder (its own history: no project)."""
    out = tmp_path / "migrations"
    out.mkdir()
    for i, f in enumerate(sorted(CORPUS.glob("*/*.sql"))[::2]):
        shutil.copy(f, out / f"{i:03d}_{f.parent.name}_{f.name}")
    return out


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return corpus_folder(tmp_path)


def run(folder: Path, monkeypatch, *, jobs: int, cache: str | Path = "off", judged: list | None = None):
    monkeypatch.setenv("FLUX_VALIDATE_JOBS", str(jobs))
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", str(cache))
    if judged is not None:  # the files judged (not served from the cache), in this process (jobs=1)
        real = batch.judge

        def spy(where, tool, todo, *rest):
            judged.extend(j.file.name for j in todo)
            return real(where, tool, todo, *rest)

        monkeypatch.setattr(batch, "judge", spy)
    _, findings = validate_paths([str(folder)], str(folder.parent))
    monkeypatch.setattr(batch, "judge", batch.judge if judged is None else real)
    return [f.model_dump() for f in findings]


def test_parallel_and_cached_runs_find_what_the_serial_run_finds(folder, tmp_path, monkeypatch):
    serial = run(folder, monkeypatch, jobs=1)
    assert serial and len({f["path"] for f in serial}) > 10
    assert threading.active_count() == 1  # else judge_all judges in-process: the workers would not be tested
    assert run(folder, monkeypatch, jobs=2) == serial  # worker processes, each replaying the history
    assert run(folder, monkeypatch, jobs=3) == serial
    cache = tmp_path / "cache"
    judged: list = []
    assert run(folder, monkeypatch, jobs=1, cache=cache, judged=judged) == serial  # cold: fills the cache
    assert len(judged) == len(list(folder.iterdir()))
    assert list(cache.glob("validate-*.marshal"))
    judged.clear()
    assert run(folder, monkeypatch, jobs=1, cache=cache, judged=judged) == serial  # warm: nothing judged
    assert judged == []
    assert run(folder, monkeypatch, jobs=2, cache=cache) == serial


def test_judging_collects_young_objects_less_often_and_leaves_the_collector_as_it_was(folder, tmp_path,
                                                                                     monkeypatch):
    """The judging (in this process, and in each worker) runs with the collector on, collecting young
    objects every _YOUNG made, not Python's 700, and what lived before it frozen (the workers fork
    so). A process that judges again and again (the MCP server judges in-process) gets its collector
    back as it was, and `flux validate`, which turns it off for its start, gets it off again."""
    said = tmp_path / "said.jsonl"
    real = batch.judge

    def spy(*args):  # in a worker too (a fork of this process): it writes what it saw to a file
        with open(said, "a", encoding="utf-8") as out:
            out.write(json.dumps([os.getpid(), gc.isenabled(), gc.get_threshold()[0], gc.get_freeze_count()]) + "\n")
        return real(*args)

    def judged(jobs: int) -> list:
        said.unlink(missing_ok=True)
        run(folder, monkeypatch, jobs=jobs)
        return [json.loads(line) for line in said.read_text().splitlines()]

    monkeypatch.setattr(batch, "judge", spy)
    before = gc.get_threshold()
    assert threading.active_count() == 1 and gc.get_freeze_count() == 0 and gc.isenabled()
    [(pid, on, young, frozen)] = judged(jobs=1)
    assert pid == os.getpid() and on and young == batch._YOUNG and frozen > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0 and gc.isenabled()
    workers = judged(jobs=2)  # a forked worker judges the schema's rules, this process the others
    assert len(workers) == 2 and all(on and young == batch._YOUNG and frozen > 0
                                     for pid, on, young, frozen in workers), workers
    assert sorted(pid == os.getpid() for pid, *_ in workers) == [False, True]
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    gc.disable()
    try:
        [(_, on, _, _)] = judged(jobs=1)
        assert on and not gc.isenabled()
    finally:
        gc.enable()


def test_a_few_files_judged_again_by_the_two_kinds_of_worker_find_what_one_process_finds(folder, tmp_path,
                                                                                         monkeypatch):
    """With the cache warm but for a few files far apart, the workers judge only those: the one
    that replays goes through the history between them, the other parses just them; the findings
    are those of one process judging every file with no cache."""
    cache = tmp_path / "cache"
    run(folder, monkeypatch, jobs=1, cache=cache)
    files = sorted(folder.iterdir())
    for f in (files[3], files[len(files) // 2], files[-1]):
        f.write_text(f.read_text(encoding="utf-8") + "\nUPDATE users SET email = lower(email);\n", encoding="utf-8")
    assert run(folder, monkeypatch, jobs=2, cache=cache) == run(folder, monkeypatch, jobs=1)

    # The worker that replays nothing parses the files it judges, not the folder around them.
    from flux_agent.schema.replay import engine as replay_engine  # where the files' up parts are parsed

    parsed: list = []
    real = replay_engine.split_many
    monkeypatch.setattr(replay_engine, "split_many",
                        lambda pieces: parsed.extend(p[0] for p in pieces) or real(pieces))
    jobs = [batch.Job(order=k, file=f, display=f.name, settings=Settings(), position=files.index(f))
            for k, f in enumerate((files[3], files[len(files) // 2], files[-1]))]
    judged = batch.judge(folder, "sql", jobs, "plain")
    assert len(parsed) == 3 and len(judged) == 3 and any(judged)


def test_a_change_is_judged_again_the_rest_served(folder, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    run(folder, monkeypatch, jobs=1, cache=cache)
    files = sorted(folder.iterdir())

    # The last file changed: only it is judged again.
    last = files[-1]
    last.write_text(last.read_text(encoding="utf-8") + "\nALTER TABLE users DROP COLUMN email;\n", encoding="utf-8")
    judged: list = []
    assert run(folder, monkeypatch, jobs=1, cache=cache, judged=judged) == run(folder, monkeypatch, jobs=1)
    assert judged == [last.name]

    # A file in the middle changed: the schema every later file is judged against may differ.
    middle = files[len(files) // 2]
    middle.write_text("CREATE TABLE flux_cache_probe (id bigint);\n" + middle.read_text(encoding="utf-8"),
                      encoding="utf-8")
    judged.clear()
    assert run(folder, monkeypatch, jobs=1, cache=cache, judged=judged) == run(folder, monkeypatch, jobs=1)
    assert judged == [f.name for f in files[len(files) // 2:]]

    # Other settings (an opt-in rule switched on): everything judged again.
    judged.clear()
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", str(cache))
    monkeypatch.setenv("FLUX_VALIDATE_JOBS", "1")
    real = batch.judge
    monkeypatch.setattr(batch, "judge",
                        lambda w, t, todo, *rest: judged.extend(j.file.name for j in todo) or real(w, t, todo, *rest))
    validate_paths([str(folder)], str(folder.parent), include_rules=["prefer-robust-stmts"])
    assert len(judged) == len(files)
    monkeypatch.setattr(batch, "judge", real)


def test_other_rule_code_is_judged_again(folder, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    serial = run(folder, monkeypatch, jobs=1, cache=cache)
    monkeypatch.setattr(cache_mod, "code_version", lambda: "an edited rule")
    judged: list = []
    assert run(folder, monkeypatch, jobs=1, cache=cache, judged=judged) == serial
    assert len(judged) == len(list(folder.iterdir()))


def test_each_code_version_has_a_file_of_its_own_and_the_oldest_go(folder, tmp_path, monkeypatch):
    """An entry of other code is never served, so it is not loaded: each version writes its own
    file, and only the newest few are kept (older formats' files go too)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    for i, name in enumerate(["validate-py311.marshal", "validate.json"]):  # formats before this one
        (cache / name).write_bytes(b"old")
        os.utime(cache / name, (1_000_000 + i, 1_000_000 + i))
    written = []
    for i, version in enumerate(["one", "two", "three", "four"]):
        monkeypatch.setattr(cache_mod, "code_version", lambda v=version: v * 8)
        assert run(folder, monkeypatch, jobs=1, cache=cache)
        name = cache_mod.Cache(cache).name
        assert version * 2 in name and (cache / name).is_file()
        os.utime(cache / name, (2_000_000 + i, 2_000_000 + i))  # one after the other, whatever the clock
        written.append(name)
    assert sorted(p.name for p in cache.glob("validate*")) == sorted(written[-cache_mod._KEEP_FILES:])
    judged: list = []
    monkeypatch.setattr(cache_mod, "code_version", lambda: "three" * 8)  # a kept version: served whole
    run(folder, monkeypatch, jobs=1, cache=cache, judged=judged)
    assert judged == []


def test_the_code_version_covers_the_rules_and_the_replay():
    root = Path(batch.__file__).resolve().parent.parent
    rule = Path(require_lock_timeout.__file__).resolve().relative_to(root)
    assert rule.parts[0] in cache_mod.CODE_DIRS
    assert {"lint", "pg", "schema", "model"} <= set(cache_mod.CODE_DIRS)


def test_the_cache_is_the_users_and_the_project_is_left_as_it_was(tmp_path, monkeypatch):
    """validate only reads the project: its cache goes to the user's cache folder."""
    project = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", project, ignore=shutil.ignore_patterns(".flux"))
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    monkeypatch.delenv("FLUX_VALIDATE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    validate_paths([str(project / "db" / "migrations")], str(project))
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    assert list((tmp_path / "xdg" / "flux" / "validate").glob("validate-*.marshal"))


def test_files_read_beside_a_migration_are_part_of_its_key(tmp_path, monkeypatch):
    """Two folders with the same up files, one with a down file: one cache, each its own findings;
    a down file added later is seen (golang-migrate keeps downs in files of their own)."""
    def folder(name: str, downs: bool) -> Path:
        out = tmp_path / name / "migrations"
        out.mkdir(parents=True)
        (out / "000001_users.up.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY);\n")
        (out / "000002_posts.up.sql").write_text("CREATE TABLE posts (id bigint PRIMARY KEY);\n")
        if downs:
            (out / "000001_users.down.sql").write_text("DROP TABLE users;\n")
        return out

    def missing(out: Path) -> list[str]:
        _, found = validate_paths([str(out)], str(out.parent))
        return sorted(Path(f.path).name for f in found if f.rule == "missing-rollback")

    monkeypatch.setenv("FLUX_VALIDATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FLUX_VALIDATE_JOBS", "1")
    up_only, mixed = folder("a", downs=False), folder("b", downs=True)
    assert missing(up_only) == []  # a folder with no downs at all ships up migrations only
    assert missing(mixed) == ["000002_posts.up.sql"]
    (mixed / "000002_posts.down.sql").write_text("DROP TABLE posts;\n")
    assert missing(mixed) == []
    (up_only / "000002_posts.down.sql").write_text("-- nothing yet\n")
    assert missing(up_only) == []


def test_validate_file_reads_its_schema_only_when_a_rule_needs_it(tmp_path):
    """A schema given as a function (lint/batch.py: the replay's snapshot) is made when a rule
    first reads it, and only then: a file of CREATE TABLEs never asks for it, an ALTER does."""
    calls = []
    shop = shop_schema()

    def schema():
        calls.append(1)
        return shop

    new = tmp_path / "new.sql"
    new.write_text("CREATE TABLE coupons (id bigint PRIMARY KEY, code text);\n", encoding="utf-8")
    alter = tmp_path / "alter.sql"
    alter.write_text("ALTER TABLE users ADD COLUMN nick text;\nALTER TABLE orders ADD COLUMN note2 text;\n",
                     encoding="utf-8")
    assert validate_file(new, Settings(), schema) == validate_file(new, Settings(), shop)
    assert calls == []
    assert validate_file(alter, Settings(), schema) == validate_file(alter, Settings(), shop)
    assert calls == [1]


def test_the_replay_takes_the_statements_the_judging_parsed(folder, monkeypatch):
    """Each file is parsed once, ahead with the files after it (FolderReplay.parse_ahead): the
    judging reads those trees, and the replay, going through the file as the rules judge it
    (FileCursor), applies the very same; the findings are those of parsing each file where it is
    read and replaying it after."""
    from flux_agent.lint import engine
    from flux_agent.schema.replay import cursor, statements
    from flux_agent.schema.replay.engine import FolderReplay

    handed, split, applied, judged = [], [], [], set()
    real_apply, real_split, real_step, real_lint = (statements.apply_sql, engine.split_statements,
                                                     cursor.apply_statement, engine.lint_sql)

    def apply(state, sql, first_line, parsed=None):
        handed.append(parsed is not None)
        return real_apply(state, sql, first_line, parsed)

    def split_here(sql, line_offset=0):
        split.append(sql)
        return real_split(sql, line_offset)

    def step(state, node, *rest):
        applied.append(node)
        return real_step(state, node, *rest)

    def lint(sql, ctx, *rest):
        found = real_lint(sql, ctx, *rest)
        judged.update(id(s.node) for s in ctx.statements)
        return found

    monkeypatch.setattr(statements, "apply_sql", apply)
    monkeypatch.setattr(engine, "split_statements", split_here)
    monkeypatch.setattr(cursor, "apply_statement", step)
    monkeypatch.setattr(engine, "lint_sql", lint)
    shared = run(folder, monkeypatch, jobs=1)
    assert len(applied) > 50 and all(id(node) in judged for node in applied)
    assert len(handed) <= 1, handed  # replayed whole: a file that does not parse
    assert len(split) <= 1, split  # the judging parsed none itself, but a file that does not parse

    real_validate = engine.validate_file
    monkeypatch.setattr(engine, "validate_file", lambda *a, keep=None, **k: real_validate(*a, **k))
    monkeypatch.setattr(FolderReplay, "parse_ahead", lambda self, index: None)
    handed.clear()
    split.clear()
    applied.clear()
    assert run(folder, monkeypatch, jobs=1) == shared
    assert handed and not any(handed) and len(split) > 20 and applied == []


def _boom(monkeypatch):
    """Replay fails on CREATE TABLE boom... (as on a statement shape it does not know)."""
    from pglast import ast

    from flux_agent.schema.replay import statements

    real = statements._HANDLERS[ast.CreateStmt]

    def create(state, node):
        if node.relation.relname.startswith("boom"):
            raise ValueError("a shape replay does not know")
        return real(state, node)

    monkeypatch.setitem(statements._HANDLERS, ast.CreateStmt, create)


def test_rules_reading_the_replay_as_it_goes_find_what_rules_reading_a_copy_find(folder, monkeypatch):
    """The rules read the folder's replay itself as it goes through each file (FileCursor) and
    find what they find reading a copy of the schema before the file, replayed on their own: also
    where a statement fails part way (the replay leaves the file out and the rules, reading a copy
    from there, skip the statement) and in the files after such a file."""
    from flux_agent.schema.replay.engine import FolderReplay

    _boom(monkeypatch)
    (folder / "499_members.sql").write_text("CREATE TABLE members (id bigint PRIMARY KEY, name text);\n")
    (folder / "500_boom.sql").write_text(
        "CREATE TABLE vouchers (id bigint PRIMARY KEY, code text);\nALTER TABLE vouchers ALTER COLUMN code SET NOT NULL;\n"
        "CREATE TABLE boom (id int);\nALTER TABLE vouchers ALTER COLUMN code SET NOT NULL;\n"
        "ALTER TABLE vouchers ALTER COLUMN code TYPE int USING 0;\nUPDATE vouchers SET codes = 1;\n", encoding="utf-8")
    (folder / "501_after.sql").write_text(
        "UPDATE vouchers SET code = 1;\nALTER TABLE members ALTER COLUMN name SET NOT NULL;\n"
        "ALTER TABLE members ALTER COLUMN name SET NOT NULL;\nALTER TABLE members ALTER COLUMN name TYPE text;\n",
        encoding="utf-8")
    live = run(folder, monkeypatch, jobs=1)
    monkeypatch.setattr(FolderReplay, "begin", lambda self, position, file: self.advance_to(position))
    copied = run(folder, monkeypatch, jobs=1)
    assert live == copied
    mine = [(f["path"].rsplit("/", 1)[-1], f["line"], f["rule"]) for f in live if "_boom" in f["path"]
            or "_after" in f["path"]]
    assert ("500_boom.sql", 6, "unknown-table-or-column") in mine  # vouchers known in the file: `codes` is not
    assert ("501_after.sql", 1, "unknown-table-or-column") in mine  # the file was left out: no vouchers after it
    assert ("501_after.sql", 2, "adding-not-nullable-field") in mine
    assert ("501_after.sql", 3, "adding-not-nullable-field") not in mine  # NOT NULL already
    assert not [m for m in mine if m[0] == "501_after.sql" and m[1] > 1 and m[2] == "unknown-table-or-column"]


def test_a_file_cursor_stands_where_the_replay_would(tmp_path, monkeypatch):
    """FileCursor.before(i) is the schema with the file's statements before i applied, the replay's
    own; asked for an earlier statement, or past one that fails, it stands before the file again;
    finished, the replay stands after the file (or before it, the file left out, when one failed),
    as a replay without a cursor does."""
    from flux_agent.schema.replay.engine import FolderReplay

    _boom(monkeypatch)
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "001_a.sql").write_text("CREATE TABLE a (id int);\n", encoding="utf-8")
    (folder / "002_b.sql").write_text("CREATE TABLE b (id int);\nALTER TABLE a ADD COLUMN x int;\n"
                                      "CREATE TABLE c (id int);\n", encoding="utf-8")
    (folder / "003_boom.sql").write_text("CREATE TABLE d (id int);\nCREATE TABLE boom (id int);\n"
                                         "CREATE TABLE e (id int);\n", encoding="utf-8")
    (folder / "004_f.sql").write_text("CREATE TABLE f (id int);\n", encoding="utf-8")

    def names(schema):
        return sorted(t.name.split(".")[-1] for t in schema.tables)

    plain = FolderReplay(folder, skip_broken=True)
    after = [names(plain.advance()) for _ in plain.files]
    assert after[2] == after[1] == ["a", "b", "c"]  # the failing file left out whole

    replay = FolderReplay(folder, skip_broken=True)
    cur = replay.begin(1, replay.files[1])
    assert names(cur.before(0)) == ["a"] and names(cur.before(2)) == ["a", "b"]
    assert [c.name for c in cur.before(2).table("a").columns] == ["id", "x"]
    assert cur.before(1) is None and names(replay.as_replayed()) == ["a"]  # an earlier one: before the file again
    assert cur.before(2) is None  # and stays so: the rules read a copy
    cur.finish()
    assert names(replay.as_replayed()) == after[1]
    cur = replay.begin(2, replay.files[2])
    assert names(cur.before(1)) == ["a", "b", "c", "d"]
    assert cur.before(2) is None and cur.failed and names(replay.as_replayed()) == after[1]
    cur.finish()
    assert names(replay.as_replayed()) == after[2]
    assert replay.begin(3, replay.files[2]) is None  # not the file at that position
    replay.advance_to(4)
    assert names(replay.as_replayed()) == after[3]


@pytest.mark.parametrize("where", ["shop", "dbmate-upchieve"])
def test_the_statements_handed_to_the_replay_build_the_schema_parsing_builds(where):
    """A replay fed the statements each file's judging parsed takes, after every file, the snapshot
    of a replay that parses the files itself."""
    from conftest import FIXTURES_REAL

    from flux_agent.schema.replay.engine import FolderReplay

    folder = MIGRATIONS if where == "shop" else FIXTURES_REAL / where / "database" / "migrations"
    if not folder.is_dir():
        pytest.skip(f"no {folder}")
    fed, parsing = FolderReplay(folder, "dbmate", skip_broken=True), FolderReplay(folder, "dbmate", skip_broken=True)
    assert len(fed.files) > 3
    for index, file in enumerate(fed.files):
        fed.parse_ahead(index)
        up = up_sql_of(file, file.read_text(encoding="utf-8"))
        validate_file(file, Settings(), fed.snapshot, keep=fed.parsed)
        assert up in fed.parsed  # the judging left its statements
        fed.advance()
        assert up not in fed.parsed  # and the replay took them
        assert fed.snapshot().model_dump_json() == parsing.advance().model_dump_json(), file.name


def test_the_runs_given_to_the_workers_cover_the_jobs_in_order_earlier_runs_longer():
    for count, workers in [(2000, 2), (100, 2), (7, 3), (2000, 4), (1, 2), (3, 4)]:
        for split in (batch._chunks, batch._even):
            runs = [range(start, end) for start, end in split(count, workers)]
            assert [j for run in runs for j in run] == list(range(count)) and all(runs) and len(runs) <= workers
            if split is batch._chunks:
                assert [len(r) for r in runs] == sorted((len(r) for r in runs), reverse=True)
    assert batch._chunks(2000, 2) == [(0, 1370), (1370, 2000)]


@pytest.mark.parametrize("where", ["shop", "dbmate-upchieve"])
def test_names_read_in_the_replay_itself_find_what_the_snapshot_finds(where, tmp_path):
    """unknown-table-or-column reads names only, in the replay's own schema (FolderReplay.as_replayed,
    FileContext.names): each file's findings are those judged against the snapshot alone, and the
    replay's schema is left as it was. A last file misnames what the history built."""
    from conftest import FIXTURES_REAL

    from flux_agent.schema.replay.engine import FolderReplay

    source = MIGRATIONS if where == "shop" else FIXTURES_REAL / where / "database" / "migrations"
    if not source.is_dir():
        pytest.skip(f"no {source}")
    folder = tmp_path / "migrations"
    shutil.copytree(source, folder)
    (folder / "99999999999999_typos.sql").write_text(
        "-- migrate:up\nALTER TABLE users RENAME COLUMN email TO mail;\nUPDATE users SET email = 'x';\n"
        "ALTER TABLE customerz ADD COLUMN x int;\nCREATE INDEX i ON users (emial);\n-- migrate:down\n")
    replay = FolderReplay(folder, "dbmate", skip_broken=True)
    found = 0
    for file in replay.files:
        before = replay.as_replayed().model_dump_json()
        with_names = validate_file(file, Settings(), replay.snapshot, names=replay.as_replayed)
        assert replay.as_replayed().model_dump_json() == before, file.name
        assert with_names == validate_file(file, Settings(), replay.snapshot()), file.name
        found += sum(f.rule == "unknown-table-or-column" for f in with_names)
        replay.advance()
    assert found >= 3  # the typos are found


def test_a_down_part_holds_sql_as_its_statements_say():
    """migration_files.has_sql asks the parser's split without building trees; it answers as
    the statements split_statements cuts do (something that does not parse counts as SQL)."""
    from flux_agent.pg.split import SqlSyntaxError, split_statements
    from flux_agent.schema.migration_files import read_sections
    from flux_agent.schema.sections import has_sql

    def by_statements(text):
        try:
            return bool(split_statements(text))
        except SqlSyntaxError:
            return True

    texts = ["", ";", ";;", "-- c", "/* x */", " \n ", "select 1", "select 1;;", "-- c\n;", "garbage here",
             "DO $$ BEGIN END $$;", "/* unterminated", "$$ x", "DROP TABLE t; -- done"]
    for path in sorted(ROOT.glob("tests/corpus/*/*.sql")) + sorted(MIGRATIONS.glob("*.sql")):
        sec = read_sections(path, path.read_text(encoding="utf-8"))
        texts += [sec.up] + ([sec.down] if sec.down is not None else [])
    assert [has_sql(t) for t in texts] == [by_statements(t) for t in texts]
    assert any(has_sql(t) for t in texts) and not all(has_sql(t) for t in texts)

def test_after_one_file_changed_only_it_is_asked_for_down_sql(tmp_path, monkeypatch):
    """Whether a folder ships up migrations only asks each file once (remembered by its inputs):
    after one file changed, that file is read again, not the folder."""
    from flux_agent.entry import validate as validate_mod

    folder = tmp_path / "m"
    folder.mkdir()
    for i in range(6):
        (folder / f"{i:03d}_t.sql").write_text(f"-- migrate:up\nCREATE TABLE t{i} (id int);\n", encoding="utf-8")
    monkeypatch.setenv("FLUX_VALIDATE_JOBS", "1")
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", str(tmp_path / "cache"))
    asked: list[str] = []
    real = validate_mod.has_down_sql
    monkeypatch.setattr(validate_mod, "has_down_sql", lambda f: asked.append(f.name) or real(f))
    validate_paths([str(folder)], str(tmp_path))
    assert len(asked) == 6  # up only: every file asked
    asked.clear()
    (folder / "003_t.sql").write_text("-- migrate:up\nCREATE TABLE t3 (id bigint);\n", encoding="utf-8")
    _, found = validate_paths([str(folder)], str(tmp_path))
    assert asked == ["003_t.sql"]
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    _, uncached = validate_paths([str(folder)], str(tmp_path))
    assert [f.model_dump() for f in found] == [f.model_dump() for f in uncached]
    assert not any(f.rule == "require-down" for f in found)  # judged as up only, as before


def test_what_a_worker_raises_is_raised_here_and_a_worker_that_dies_is_an_internal_failure(folder, monkeypatch):
    from flux_agent.errors import FluxInputError, FluxInternalError

    real = batch.judge
    pid = os.getpid()

    def schema_fails(where, tool, todo, family=None, *rest):
        if family == "schema" and os.getpid() != pid:  # in the forked worker only
            raise FluxInputError("bad file in the worker")
        return real(where, tool, todo, family, *rest)

    monkeypatch.setattr(batch, "judge", schema_fails)
    with pytest.raises(FluxInputError, match="bad file in the worker"):
        run(folder, monkeypatch, jobs=2)

    def schema_dies(where, tool, todo, family=None, *rest):
        if family == "schema" and os.getpid() != pid:
            os._exit(3)
        return real(where, tool, todo, family, *rest)

    monkeypatch.setattr(batch, "judge", schema_dies)
    with pytest.raises(FluxInternalError, match="without an answer"):
        run(folder, monkeypatch, jobs=2)


@pytest.mark.parametrize("cache", ["on", "off"])
def test_files_before_the_first_with_a_rollback_are_not_judged_for_one(tmp_path, monkeypatch, cache):
    """marquez's Flyway folder shipped up migrations only; the first U-file Flux wrote made validate
    judge each of the 71 V-files before it for a missing rollback. The files before a folder's first
    one with down SQL were written before it kept rollbacks: only the files from there on are judged."""
    folder = tmp_path / "db" / "migration"
    folder.mkdir(parents=True)
    for version in range(1, 5):
        (folder / f"V{version}__t{version}.sql").write_text(f"CREATE TABLE t{version} (id bigint PRIMARY KEY);\n")
    (folder / "U3__t3.sql").write_text("DROP TABLE t3;\n")
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", str(tmp_path / "cache") if cache == "on" else "off")
    monkeypatch.setenv("FLUX_VALIDATE_JOBS", "1")
    for _ in range(2):  # the second run from the cache, where it is on
        _, found = validate_paths([str(folder)], str(tmp_path))
        assert sorted(Path(f.path).name for f in found if f.rule == "missing-rollback") == ["V4__t4.sql"]
