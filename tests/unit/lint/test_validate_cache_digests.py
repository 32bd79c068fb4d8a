"""The file digests of validate's cache (lint/cache.py Digests): a file whose stat is the one
remembered is not read again; a file rewritten in place, its modification time put back, is
(the change time gives it away); a file changed just now is not remembered at all."""

from __future__ import annotations

import builtins
import hashlib
import os
import time
from pathlib import Path

from flux_agent.lint import cache as cache_mod


def _reads(monkeypatch) -> list[str]:
    """The files the cache module opens from now on (Flux's own sources, for the code version, read
    before)."""
    cache_mod.code_version()
    opened: list[str] = []

    def spy(name, *args, **kwargs):
        opened.append(os.fspath(name))
        return builtins.open(name, *args, **kwargs)

    monkeypatch.setattr(cache_mod, "open", spy, raising=False)
    return opened


def _run(folder: Path, files: list[Path]) -> list[str]:
    """One run's history hashes, the cache saved as validate saves it."""
    cache = cache_mod.Cache(folder)
    hashes = cache_mod.Digests(cache).history(files)
    cache.save()
    return hashes


def test_a_remembered_file_is_not_read_and_a_rewritten_one_is(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_mod, "_RACY_NS", 0)  # the files below are a moment old, not seconds
    files = [tmp_path / f"{i:03d}_m.sql" for i in range(3)]
    for f in files:
        f.write_text(f"CREATE TABLE t{f.name[:3]} (id bigint);\n", encoding="utf-8")
    time.sleep(0.05)  # past the clock tick the writes were stamped in
    opened = _reads(monkeypatch)
    first = _run(tmp_path / "cache", files)
    assert sorted(opened) == sorted(map(str, files))

    opened.clear()
    assert _run(tmp_path / "cache", files) == first
    assert opened == []  # every stat matched: nothing read

    # The same size, the modification time put back: only the change time differs.
    stat = files[1].stat()
    files[1].write_text(files[1].read_text(encoding="utf-8").replace("bigint", "serial"), encoding="utf-8")
    os.utime(files[1], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert files[1].stat().st_size == stat.st_size and files[1].stat().st_mtime_ns == stat.st_mtime_ns
    opened.clear()
    again = _run(tmp_path / "cache", files)
    assert opened == [str(files[1])]
    assert again[:2] == first[:2] and again[2:] != first[2:]
    digest = hashlib.sha256(files[1].read_bytes()).digest()
    assert cache_mod.Digests(cache_mod.Cache(tmp_path / "cache")).file(files[1]) == digest


def test_a_file_changed_just_now_is_not_remembered(tmp_path):
    fresh = tmp_path / "001_fresh.sql"
    fresh.write_text("SELECT 1;\n", encoding="utf-8")
    cache = cache_mod.Cache(tmp_path / "cache")
    assert cache_mod.Digests(cache).file(fresh) == hashlib.sha256(fresh.read_bytes()).digest()
    st = fresh.stat()
    assert (st.st_dev, st.st_ino) not in cache.stats


def test_without_a_cache_folder_nothing_is_remembered(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_mod, "_RACY_NS", 0)
    old = tmp_path / "001_old.sql"
    old.write_text("SELECT 1;\n", encoding="utf-8")
    cache = cache_mod.Cache(None)
    cache_mod.Digests(cache).file(old)
    assert cache.stats == {} and not cache.added


def test_the_code_version_is_remembered_by_the_sources_stats(tmp_path, monkeypatch):
    """Read from the sources once, then served by their stats until one changes."""
    monkeypatch.setattr(cache_mod, "_RACY_NS", 0)
    root, memo = tmp_path / "pkg", tmp_path / "cache"
    (root / "lint" / "rules").mkdir(parents=True)
    (root / "lint" / "engine.py").write_text("A = 1\n", encoding="utf-8")
    (root / "lint" / "rules" / "one.py").write_text("B = 2\n", encoding="utf-8")
    opened = _reads(monkeypatch)
    first = cache_mod.source_version(root, ("lint",), memo)
    assert sorted(Path(p).name for p in opened) == ["engine.py", "one.py"]
    opened.clear()
    assert cache_mod.source_version(root, ("lint",), memo) == first and opened == []  # the stats sufficed
    (root / "lint" / "rules" / "one.py").write_text("B = 3\n", encoding="utf-8")  # same size: the times tell
    assert cache_mod.source_version(root, ("lint",), memo) != first
    assert cache_mod.source_version(root, ("lint",), None) != first  # no cache folder: read every time


def test_a_source_changed_just_now_is_not_remembered(tmp_path, monkeypatch):
    root, memo = tmp_path / "pkg", tmp_path / "cache"
    (root / "pg").mkdir(parents=True)
    (root / "pg" / "parse.py").write_text("A = 1\n", encoding="utf-8")
    cache_mod.source_version(root, ("pg",), memo)
    assert not (memo / "code-version.marshal").exists()  # within _RACY_NS: an edit may follow unseen
