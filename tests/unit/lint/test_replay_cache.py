"""The replay's state kept between runs (lint/replay_cache.py, FolderReplay.resume): a replay resumed
from a saved place builds what a replay from the start builds, without reading the files before the
place, a broken file after it included; and `flux validate` run again after the newest file changed
replays none of the history, its findings those of a run with no cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.entry.validate import validate_paths
from flux_agent.schema.replay.engine import FolderReplay

from tests.unit.lint.test_validate_batch import corpus_folder

HISTORY = [
    "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);",
    "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id), note varchar(20));",
    "ALTER TABLE orders RENAME COLUMN note TO remark;",
    "CREATE TABLE parts (id int) PARTITION BY RANGE (id);\nALTER TABLE ONLY parts ALTER COLUMN id SET DEFAULT 1;",
    "CREATE INDEX orders_user ON orders (user_id);\nALTER TABLE users ADD CONSTRAINT users_email UNIQUE (email);",
    "ALTER TABLE orders ADD COLUMN total numeric(12,2) DEFAULT 0 NOT NULL;",
    "CREATE TABLE broken (id int;",  # does not parse: left out of the history
    "ALTER TABLE users RENAME TO members;\nCREATE TYPE mood AS ENUM ('ok', 'sad');",
    "ALTER TABLE orders DROP COLUMN remark;\nCREATE VIEW big AS SELECT id FROM orders WHERE total > 100;",
]


def write_history(folder: Path) -> list[Path]:
    folder.mkdir()
    for i, sql in enumerate(HISTORY):
        (folder / f"{i:03d}_step.sql").write_text(f"-- migrate:up\n{sql}\n-- migrate:down\n", encoding="utf-8")
    return sorted(folder.glob("*.sql"))


@pytest.mark.parametrize("place", [1, 3, 5, 6, 7])
def test_a_resumed_replay_builds_what_a_replay_from_the_start_builds(tmp_path, place):
    files = write_history(tmp_path / "m")
    whole = FolderReplay(tmp_path / "m", "dbmate", skip_broken=True)
    whole.advance_to(place)
    saved = whole.saved()
    expected = whole.schema()
    for f in files[:place]:  # a resumed replay never reads them
        f.write_text("-- migrate:up\nTHIS IS NOT SQL;\n", encoding="utf-8")
    resumed = FolderReplay(tmp_path / "m", "dbmate", skip_broken=True)
    resumed.resume(place, saved)
    assert resumed.schema() == expected
    assert [t.name for t in expected.tables] == ["members", "orders", "parts"] and expected.views


def test_a_file_failing_part_way_after_the_place_rebuilds_from_the_saved_state(tmp_path):
    files = write_history(tmp_path / "m")
    files[-1].write_text("-- migrate:up\nALTER TABLE orders ADD COLUMN a int;\nALTER TABLE nowhere ADD COLUMN b (;\n",
                         encoding="utf-8")  # its first statement applies, then it fails: left out whole
    whole = FolderReplay(tmp_path / "m", "dbmate", skip_broken=True)
    whole.advance_to(5)
    saved = whole.saved()
    expected = whole.schema()
    assert "a" not in {c.name for c in expected.table("orders").columns}
    for f in files[:5]:
        f.unlink()
    resumed = FolderReplay(tmp_path / "m", "dbmate", skip_broken=True)
    resumed.files = whole.files  # the same history, its first files gone from the disk now
    resumed.resume(5, saved)
    assert resumed.schema() == expected


def test_validate_again_after_the_newest_file_changed_replays_none_of_the_history(tmp_path, monkeypatch):
    folder = corpus_folder(tmp_path)
    monkeypatch.setenv("FLUX_VALIDATE_JOBS", "1")  # judged here, where the spy sees the replay
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", str(tmp_path / "cache"))
    replayed: list[str] = []
    real = FolderReplay._replay
    monkeypatch.setattr(FolderReplay, "_replay", lambda self, f: (replayed.append(f.name), real(self, f))[1])
    files = sorted(folder.glob("*.sql"))
    assert len(files) > 30
    validate_paths([str(folder)], str(tmp_path))  # cold: keeps the state before the newest file
    newest = files[-1]
    newest.write_text(newest.read_text(encoding="utf-8") + "\n-- changed\n", encoding="utf-8")
    replayed.clear()
    _, found = validate_paths([str(folder)], str(tmp_path))
    assert replayed == []  # resumed just before it: no file of the history replayed again
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    _, uncached = validate_paths([str(folder)], str(tmp_path))
    assert [f.model_dump() for f in found] == [f.model_dump() for f in uncached]
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", str(tmp_path / "cache"))
    # Without the saved state, the same change has the history replayed.
    for saved in (tmp_path / "cache").glob("replay-*.json"):
        saved.unlink()
    newest.write_text(newest.read_text(encoding="utf-8") + "\n-- changed again\n", encoding="utf-8")
    replayed.clear()
    validate_paths([str(folder)], str(tmp_path))
    assert len(replayed) == len(files) - 1


def test_a_cold_run_judged_by_workers_keeps_the_state_its_keys_were_worked_out_for(tmp_path, monkeypatch):
    # With nothing of this code in the cache, the workers judge while this process works out the
    # history's digests (judge_all's meanwhile): the replay state they reach is saved after, under the
    # key a run in one process saves it under, and the next run resumes from it.
    folder = corpus_folder(tmp_path)
    runs = {}
    for jobs in ("2", "1"):
        monkeypatch.setenv("FLUX_VALIDATE_JOBS", jobs)
        monkeypatch.setenv("FLUX_VALIDATE_CACHE", str(tmp_path / f"cache{jobs}"))
        _, found = validate_paths([str(folder)], str(tmp_path))
        runs[jobs] = ([f.model_dump() for f in found], sorted(p.name for p in (tmp_path / f"cache{jobs}").glob("replay-*")))
    assert runs["2"] == runs["1"] and len(runs["2"][1]) == 1
    monkeypatch.setenv("FLUX_VALIDATE_JOBS", "1")
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", str(tmp_path / "cache2"))
    replayed: list[str] = []
    real = FolderReplay._replay
    monkeypatch.setattr(FolderReplay, "_replay", lambda self, f: (replayed.append(f.name), real(self, f))[1])
    newest = sorted(folder.glob("*.sql"))[-1]
    newest.write_text(newest.read_text(encoding="utf-8") + "\n-- changed\n", encoding="utf-8")
    validate_paths([str(folder)], str(tmp_path))
    assert replayed == []
