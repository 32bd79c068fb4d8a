"""The replay's shortcuts (touches.py) change nothing: on the real projects' histories, each
snapshot FolderReplay takes (re-normalising only the tables a file touched) equals the schema
normalised whole, and a file's statements replayed on a partial copy (only the tables they can
change copied) give the same schema as on a whole copy, leaving the original as it was."""

from __future__ import annotations

import pglast
import pytest
from conftest import FIXTURES_REAL

from flux_agent.model.schema import Schema, Table
from flux_agent.schema.migration_files import up_section
from flux_agent.schema.normal import normalise_table, normalise_views
from flux_agent.schema.replay.engine import FolderReplay
from flux_agent.schema.replay.state import State, bare_names, in_namespace, split_key
from flux_agent.schema.replay.statements import replay_step
from flux_agent.schema.replay.touches import copy_for_replay, touched, union

FOLDERS = {"dbmate": "dbmate-upchieve/database/migrations", "golang-migrate": "golang-migrate-pocket-id/migrations/postgres",
           "drizzle": "drizzle-dokploy/drizzle"}


def _history(tool: str):
    folder = FIXTURES_REAL / FOLDERS[tool]
    if not folder.is_dir():
        pytest.skip(f"real-world fixtures not present at {folder} (they live in ../shared, outside a user's clone)")
    return folder


def _whole(raw: Schema) -> Schema:
    """The snapshot with nothing reused: every table copied and normalised."""
    out = Schema.model_validate_json(raw.model_copy(update={"tables": []}).model_dump_json())
    for t in raw.tables:
        table = Table.model_validate_json(t.model_dump_json())
        normalise_table(table)
        out.tables.append(table)
    return normalise_views(out)


@pytest.mark.parametrize("tool", sorted(FOLDERS))
def test_each_snapshot_equals_the_schema_normalised_whole(tool):
    replay = FolderReplay(_history(tool), tool, skip_broken=True)
    assert len(replay.files) > 20
    for _ in replay.files:
        fast = replay.advance()
        assert fast.model_dump_json() == _whole(replay._state.schema).model_dump_json()


def test_snapshots_taken_now_and_then_on_a_history_that_recreates_its_tables(tmp_path):
    """`flux validate` takes a snapshot only for the files a rule needs the schema of (lint/context.py),
    so the tables touched pile up between snapshots; and a history cycled (as the 2,000-file
    benchmark set is) creates tables that exist already, dropping them first: the tables whose
    keys point at them change, the others keep their constraints list and their normalised copy."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    files = sorted(_history("dbmate").glob("*.sql"))
    for i, f in enumerate(files + files[: len(files) // 2]):
        (folder / f"{i:05d}_{f.name}").write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    replay = FolderReplay(folder, "dbmate", skip_broken=True)
    for i, file in enumerate(replay.files):
        replay._replay(file)
        replay._done += 1
        if i % 3 == 0 or i % 7 == 0:
            assert replay.snapshot().model_dump_json() == _whole(replay._state.schema).model_dump_json(), file.name


@pytest.mark.slow
@pytest.mark.parametrize("tool", sorted(FOLDERS))
def test_a_file_replayed_on_a_partial_copy_equals_it_on_a_whole_copy(tool):
    replay = FolderReplay(_history(tool), tool, skip_broken=True)
    partial_copies = 0
    before = replay.snapshot()
    for file in replay.files:
        _, sql = up_section(file, file.read_text())
        try:
            nodes = [(r.stmt, sql[r.stmt_location: r.stmt_location + r.stmt_len or len(sql)])
                     for r in pglast.parse_sql(sql)]
        except pglast.parser.ParseError:
            nodes = []
        steps = [(n, replay_step(n, text)) for n, text in nodes]
        touch = union(getattr(s, "touches", None) if isinstance(n, pglast.ast.DoStmt) else touched(n)
                      for n, s in steps if s is not None)
        partial_copies += touch is not None
        original = before.model_dump_json()
        results = []
        for copy in (copy_for_replay(before, touch), copy_for_replay(before, None)):
            state = State(copy)
            for _, step in steps:
                if step is not None:
                    try:
                        step(state)
                    except Exception:
                        pass
            results.append(state.schema.model_dump_json())
        assert results[0] == results[1], file.name
        assert before.model_dump_json() == original, f"{file.name} changed the schema it was judged against"
        before = replay.advance()
    assert partial_copies > len(replay.files) // 2  # the shortcut is taken, not only the whole copy


def test_what_a_statement_touches():
    def t(sql):
        return touched(pglast.parse_sql(sql)[0].stmt)

    assert t("ALTER TABLE a ADD CONSTRAINT f FOREIGN KEY (x) REFERENCES b (id)") == ({"a"}, set())
    assert t("ALTER TABLE s.a DROP COLUMN x") == ({"a"}, {"a"})
    assert t("CREATE TABLE a (id int REFERENCES b) ") == ({"a"}, {"a"})
    assert t("CREATE INDEX i ON a (x)") == ({"a"}, set())
    assert t("ALTER TABLE a RENAME TO c") == ({"a", "c"}, {"a"})
    assert t("DROP TABLE a, s.b") == ({"a", "b"}, {"a", "b"})
    assert t("ALTER TYPE mood ADD VALUE 'x'") == (set(), set())
    assert t("DROP INDEX i") is None and t("ALTER TYPE mood RENAME TO feeling") is None


def test_the_name_shortcuts_split_keys_as_split_key_does():
    keys = ["users", "public.users", "s.users", "s.a.b", "a.", ".a", "sales.orders", "public", "s", "publicx.t"]
    for key in keys:
        for ns in ["public", "s", "sales", "a", "", "s.a", "publicx"]:
            assert in_namespace(key, ns) == (split_key(key)[0] == ns), (key, ns)
    assert bare_names(keys) == {split_key(k)[1] for k in keys}
