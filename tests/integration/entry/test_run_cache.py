"""`flux validate` run again on what it looked at before is served from its record (lint/run_cache.py),
byte for byte and with the same exit code; any change to a file it read, a folder it listed or a
path it found absent, or a run that depended on more than files, is judged again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from flux_agent.lint import run_cache

from tests.integration.entry.test_daemon import SAFE, UNSAFE, dbmate_project

SAFE_TOO = "-- migrate:up\nCREATE INDEX CONCURRENTLY orders_note ON orders (note);\n-- migrate:down\nSELECT 1;\n"


def flux(*args: str, cwd: Path, cache: Path) -> tuple[subprocess.CompletedProcess, str]:
    """The command's run, and what the run cache said of it (its FLUX_RUN_CACHE_LOG lines)."""
    env = dict(os.environ, FLUX_VALIDATE_CACHE=str(cache), FLUX_DAEMON="off", FLUX_RUN_CACHE_LOG="1")
    proc = subprocess.run([sys.executable, "-m", "flux_agent", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)
    said = [line for line in proc.stderr.splitlines() if line.startswith("flux: run cache: ")]
    proc.stderr = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("flux: run cache: "))
    return proc, " / ".join(said)


def settled(*folders: Path) -> None:
    """Wait out the racy window: a file changed within it of a run's start is not remembered."""
    paths = [p for folder in folders if folder.exists()
             for p in ([folder, *folder.rglob("*")] if folder.is_dir() else [folder])]
    newest = max(max(p.stat().st_mtime_ns, p.stat().st_ctime_ns) for p in paths)
    wait = (newest + run_cache._RACY_NS - time.time_ns()) / 1e9 + 0.05
    if wait > 0:
        time.sleep(wait)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return dbmate_project(tmp_path)


@pytest.mark.slow  # waits out the racy window four times
def test_a_run_again_is_served_and_any_change_it_looked_at_is_judged_again(project, tmp_path):
    cache = tmp_path / "cache"
    settled(project)
    first, said = flux("validate", "db/migrations", "--json", cwd=project, cache=cache)
    assert first.returncode == 1 and "require-concurrent-index-creation" in first.stdout, first.stderr
    assert said == "flux: run cache: miss (no record) / flux: run cache: recorded"
    again, said = flux("validate", "db/migrations", "--json", cwd=project, cache=cache)
    assert said == "flux: run cache: served"
    assert (again.stdout, again.stderr, again.returncode) == (first.stdout, first.stderr, first.returncode)
    text, said = flux("validate", "db/migrations", cwd=project, cache=cache)  # other arguments: another record
    assert "served" not in said and text.stdout != first.stdout

    # A file rewritten with the same bytes (a checkout, a stash popped) or touched: nothing changed.
    orders = project / "db" / "migrations" / "001_orders.sql"
    orders.write_text(SAFE, encoding="utf-8")
    touched, said = flux("validate", "db/migrations", "--json", cwd=project, cache=cache)
    assert said == "flux: run cache: served" and touched.stdout == first.stdout

    # A file's bytes changed, its size and modification time kept: its change time tells.
    index = project / "db" / "migrations" / "002_index.sql"
    st = index.stat()
    index.write_text(SAFE_TOO.ljust(len(UNSAFE)), encoding="utf-8")
    os.utime(index, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert index.stat().st_size == st.st_size
    changed, said = flux("validate", "db/migrations", "--json", cwd=project, cache=cache)
    assert said.startswith(f"flux: run cache: miss ({index} changed)")
    assert "require-concurrent-index-creation" not in changed.stdout and changed.stdout != first.stdout
    assert said.endswith(" changed just before the run)")  # so this run is not remembered

    # A file added to a folder the run listed.
    settled(project)
    flux("validate", "db/migrations", "--json", cwd=project, cache=cache)
    (project / "db" / "migrations" / "003_more.sql").write_text(UNSAFE.replace("orders_note", "orders_n2"),
                                                                encoding="utf-8")
    added, said = flux("validate", "db/migrations", "--json", cwd=project, cache=cache)
    assert said.startswith("flux: run cache: miss (folder ")
    assert added.returncode == 1 and "003_more.sql" in added.stdout

    # A configuration file the run looked for and did not find.
    settled(project)
    before, said = flux("validate", "db/migrations", "--json", cwd=project, cache=cache)
    assert said.endswith("recorded") and "require-concurrent-index-creation" in before.stdout
    (project / ".flux.yaml").write_text("disable_rules: [require-concurrent-index-creation]\n", encoding="utf-8")
    configured, said = flux("validate", "db/migrations", "--json", cwd=project, cache=cache)
    assert said.startswith("flux: run cache: miss (")
    assert "require-concurrent-index-creation" not in configured.stdout, configured.stderr


@pytest.mark.slow  # waits out the racy window
def test_a_path_found_absent_that_appears_is_judged_again(project, tmp_path):
    """validate takes a path relative to the working folder when it is there, else to the project:
    the run only tested (stat) that db/migrations is absent here, and it appears."""
    cache = tmp_path / "cache"
    cache.mkdir()  # made before: the working folder's listing is part of the record
    (tmp_path / "db").mkdir()  # so the working folder's own listing does not change below
    settled(tmp_path)
    first, said = flux("validate", "--project", "app", "db/migrations", "--json", cwd=tmp_path, cache=cache)
    assert said.endswith("recorded") and "require-concurrent-index-creation" in first.stdout, said
    (tmp_path / "db" / "migrations").mkdir()
    (tmp_path / "db" / "migrations" / "001_orders.sql").write_text(SAFE, encoding="utf-8")
    here, said = flux("validate", "--project", "app", "db/migrations", "--json", cwd=tmp_path, cache=cache)
    assert said.startswith(f"flux: run cache: miss ({tmp_path / 'db' / 'migrations'} changed)"), said
    assert "require-concurrent-index-creation" not in here.stdout


def test_runs_that_depend_on_more_than_files_are_not_remembered(project, tmp_path):
    cache = tmp_path / "cache"
    settled(project)
    bad, said = flux("validate", "no/such/folder", cwd=project, cache=cache)
    assert bad.returncode == 2 and said.endswith("not recorded (exit code 2)")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "first"], cwd=project, check=True)
    (project / "db" / "migrations" / "003_more.sql").write_text(UNSAFE.replace("orders_note", "n2"), encoding="utf-8")
    since, said = flux("validate", "--since", "HEAD", cwd=project, cache=cache)  # git says what changed
    assert since.returncode == 1 and "003_more.sql" in since.stdout, since.stderr
    assert said.endswith("not recorded (subprocess.Popen)")
    assert not (cache / "runs").exists() or not any((cache / "runs").iterdir())


def test_off_means_no_record(project, tmp_path):
    env = dict(os.environ, FLUX_VALIDATE_CACHE="off", FLUX_DAEMON="off", FLUX_RUN_CACHE_LOG="1")
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "flux_agent", "validate", "db/migrations"], capture_output=True,
                              text=True, env=env, cwd=project, timeout=120)
        assert proc.returncode == 1 and "run cache" not in proc.stderr


@pytest.mark.slow  # waits out the racy window
def test_a_run_whose_reader_went_away_is_not_remembered(tmp_path):
    """`flux validate ... | head -c 10`: the command exits 0 once its reader has gone, which is not
    the exit code of the run (1): such a run is never served to the next caller."""
    many = tmp_path / "many"
    many.mkdir()
    for i in range(400):  # well over a pipe's 64 kB of findings
        (many / f"{i:04d}_index.sql").write_text(UNSAFE.replace("orders_note", f"n{i}"), encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    settled(tmp_path)
    env = dict(os.environ, FLUX_VALIDATE_CACHE=str(cache), FLUX_DAEMON="off", FLUX_RUN_CACHE_LOG="1")
    cut = subprocess.run(f"{sys.executable} -m flux_agent validate many | head -c 10", shell=True,
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert len(cut.stdout) == 10 and "not recorded (output not written whole)" in cut.stderr, cut.stderr
    whole, said = flux("validate", "many", cwd=tmp_path, cache=cache)
    assert whole.returncode == 1 and "served" not in said


@pytest.mark.slow  # waits out the racy window
def test_a_folder_above_is_asked_for_its_configuration_only(tmp_path):
    """Flyway reads a flyway.conf in the migrations' folder or any folder above it: the run asks for
    those files by name, so a file of another name added above the project (a home folder, /tmp)
    leaves the record good, and a flyway.conf added there does not."""
    project = tmp_path / "app"
    folder = project / "src" / "main" / "resources" / "db" / "migration"
    folder.mkdir(parents=True)
    (folder / "V1__orders.sql").write_text("CREATE TABLE ${schema}.orders (id bigint PRIMARY KEY);\n",
                                           encoding="utf-8")
    (folder / "V2__index.sql").write_text("CREATE INDEX orders_id ON ${schema}.orders (id);\n", encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    settled(tmp_path)
    first, said = flux("validate", str(folder), "--json", cwd=project, cache=cache)
    assert said.endswith(": recorded") and first.returncode == 1, said  # the blocking index
    (tmp_path / "notes.txt").write_text("not Flux's business\n", encoding="utf-8")
    again, said = flux("validate", str(folder), "--json", cwd=project, cache=cache)
    assert said == "flux: run cache: served" and again.stdout == first.stdout
    (tmp_path / "flyway.conf").write_text("flyway.placeholders.schema=billing\n", encoding="utf-8")
    configured, said = flux("validate", str(folder), "--json", cwd=project, cache=cache)
    assert said.startswith(f"flux: run cache: miss ({tmp_path / 'flyway.conf'} changed)"), said


def test_ctypes_imported_is_no_library_loaded(tmp_path, monkeypatch):
    """psycopg imports ctypes, which opens the running process's own symbols (dlopen(None)): that
    alone loads nothing a run could depend on; a library opened by name still makes a run unseen."""
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", str(tmp_path / "cache"))
    rec = run_cache.Recorder(["validate", "x"])
    rec.event("ctypes.dlopen", (None,))
    assert rec.unseen is None
    rec.event("ctypes.dlopen", ("libpq.so.5",))
    assert rec.unseen == "ctypes.dlopen"


@pytest.mark.slow  # waits out the racy window; runs node
@pytest.mark.pg
@pytest.mark.node
def test_a_node_folder_read_from_kept_captures_is_served(tmp_path):
    """A knex folder validated again reads what each file sent from the captures kept by the first
    run (no node, no database): that run is remembered, and served after it (misskey's 340 TypeORM
    files: 5 s warm before, re-judging every file)."""
    from js_tools import modules
    from tests.integration.devdb.test_program_node import make_project
    from tests.integration.lint.test_readers_node import CASES

    root = tmp_path / "app"
    make_project("knex", root, "host=/nowhere dbname=none user=u", modules("knex"))
    (rel, text, line, _, _), _ = CASES["knex"]
    (root / rel).write_text(text)
    cache, captures = tmp_path / "cache", Path(os.environ["FLUX_DEVDB_DIR"]) / "captures"
    captures.mkdir(parents=True, exist_ok=True)
    (captures / ("0" * 32 + ".json")).write_text("{}")  # an earlier Flux's, uncompressed
    args = ("validate", "migrations", "--project", ".", "--json")
    first, said = flux(*args, cwd=root, cache=cache)
    flagged = {f["line"] for f in json.loads(first.stdout) if f["path"].endswith(Path(rel).name)}
    assert first.returncode == 1 and line in flagged, first.stdout + first.stderr
    kept = sorted(captures.iterdir())  # compressed (misskey's 340 uncompressed: 221 MB); the old one gone
    assert kept and all(k.name.endswith(".json.z") for k in kept), kept
    assert all("schema" in json.loads(zlib.decompress(k.read_bytes())) for k in kept)
    # what the run reads of the dev database's folder: the captures, the binaries found (written by a run)
    settled(root, captures, captures.parent / "binaries.json")
    again, said = flux(*args, cwd=root, cache=cache)
    assert said.endswith("recorded"), said
    served, said = flux(*args, cwd=root, cache=cache)
    assert said == "flux: run cache: served"
    assert (served.stdout, served.returncode) == (first.stdout, first.returncode)
    (root / rel).write_text(text.replace("table.index(['email'])", "table.string('nickname')"))
    changed, said = flux(*args, cwd=root, cache=cache)
    assert said.startswith(f"flux: run cache: miss ({root / rel} changed)"), said
    assert changed.stdout != first.stdout
