"""The digests keying the dev databases: within one validate (run_memo.remembering) each file is read once
however many keys hash it, and the keys are the ones worked out without it; outside, every key
reads the files again (a long-lived server sees a rewrite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.devdb.digests import file_digest, kept_once
from flux_agent.devdb.run_memo import RunMemo, memo, remembering
from flux_agent.devdb.program import _key
from flux_agent.errors import FluxInputError


def _files(root: Path, count: int) -> list[Path]:
    root.mkdir()
    files = []
    for i in range(count):
        files.append(root / f"{i:03d}_m.js")
        files[-1].write_text(f"exports.up = async (knex) => knex.raw('select {i}');\n")
    return files


def test_a_file_is_read_once_within_one_validate_and_the_keys_are_the_same(tmp_path, monkeypatch):
    files = _files(tmp_path / "migrations", 5)
    # the key of the database before each file: every other file hashed
    without = [_key(tmp_path, f"knex before {f.name}", [g for g in files if g != f], 16, None) for f in files]
    reads = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self.name) or real(self))
    with remembering(RunMemo()) as kept:
        within = [_key(tmp_path, f"knex before {f.name}", [g for g in files if g != f], 16, None) for f in files]
    assert within == without and len(set(within)) == 5
    assert sorted(reads) == sorted(f.name for f in files)  # 5 reads, not 20
    assert len(kept.digests) == 5 and memo() is None  # the context is left as it was


def test_outside_one_validate_a_rewritten_file_changes_the_key(tmp_path):
    files = _files(tmp_path / "migrations", 2)
    before = _key(tmp_path, "knex", files, 16, None)
    files[0].write_text(files[0].read_text().replace("select 0", "select 9"))  # same size, same tick maybe
    assert _key(tmp_path, "knex", files, 16, None) != before
    assert file_digest(files[1]) == file_digest(files[1])


def test_an_unreadable_file_is_one_line(tmp_path):
    with pytest.raises(FluxInputError, match="cannot read"):
        file_digest(tmp_path / "gone.js")
    with remembering(RunMemo()), pytest.raises(FluxInputError, match="cannot read"):
        file_digest(tmp_path / "gone.js")


def test_a_runner_s_inputs_are_listed_once_within_one_validate():
    listed = []

    def make():
        listed.append(1)
        return ["a", "b"]
    assert kept_once(("inputs", "knex"), make) == kept_once(("inputs", "knex"), make) == ["a", "b"]
    assert len(listed) == 2  # outside a validate: each time
    with remembering(RunMemo()):
        assert kept_once(("inputs", "knex"), make) == kept_once(("inputs", "knex"), make) == ["a", "b"]
    assert len(listed) == 3
