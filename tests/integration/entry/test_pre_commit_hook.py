"""The repository's .pre-commit-hooks.yaml run by the real pre-commit on a repository made here: pre-commit
installs this working tree's Flux (a commit of it, as pre-commit installs any hook repository) into its
own virtualenv from PyPI, passes the staged migrations only, and a commit with an error finding is
refused while one with warnings only goes through. Slow: the first install takes tens of seconds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shop import ROOT, SHOP

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("git") is None, reason="needs git")]

BAD = "20250201000000_index_payment_method.sql"
BAD_SQL = """-- migrate:up
CREATE INDEX orders_payment_method_idx ON orders (payment_method);

-- migrate:down
DROP INDEX orders_payment_method_idx;
"""
FINE_SQL = """-- migrate:up
ALTER TABLE orders ADD COLUMN gift_note text;

-- migrate:down
ALTER TABLE orders DROP COLUMN gift_note;
"""


def run(where: Path, *argv: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(list(argv), cwd=where, env=env, capture_output=True, text=True, timeout=900,
                          check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture
def env(tmp_path) -> dict:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT", "FLUX_"))}
    out.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), FLUX_VALIDATE_CACHE=str(tmp_path / "cache"),
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com",
               GIT_CEILING_DIRECTORIES=str(tmp_path))
    return out


def hook_repository(tmp_path: Path, env: dict) -> tuple[Path, str]:
    """This working tree's package and hook file committed in a repository of their own: pre-commit
    installs a hook repository from a commit, and the one under test is the working tree's."""
    src = tmp_path / "flux-src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "flux_agent", src / "flux_agent", ignore=shutil.ignore_patterns("__pycache__"))
    run(src, "git", "init", "-q", "-b", "main", env=env)
    run(src, "git", "add", "-A", env=env)
    run(src, "git", "commit", "-q", "-m", "flux", env=env)
    return src, run(src, "git", "rev-parse", "HEAD", env=env).stdout.strip()


def test_the_hook_refuses_a_commit_with_an_error_and_passes_the_fixed_one(tmp_path, env):
    src, rev = hook_repository(tmp_path, env)
    repo = tmp_path / "app"
    shutil.copytree(SHOP, repo)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {src}\n  rev: {rev}\n  hooks:\n  - id: flux-validate\n")
    run(repo, "git", "init", "-q", "-b", "main", env=env)
    run(repo, "git", "add", "-A", env=env)
    run(repo, "git", "commit", "-q", "-m", "the history", env=env)
    pre_commit = [sys.executable, "-m", "pre_commit"]

    migrations = repo / "db" / "migrations"
    (migrations / BAD).write_text(BAD_SQL)
    (repo / "queries").mkdir()
    (repo / "queries" / "report.sql").write_text("SELECT * FROM nowhere;\n")  # not a migration: not passed
    (migrations / "20250101090300_create_legacy_events.sql").write_text("-- migrate:up\nnot sql\n")  # unstaged
    run(repo, "git", "add", f"db/migrations/{BAD}", "queries/report.sql", env=env)

    first = run(repo, *pre_commit, "run", env=env, check=False)
    said = first.stdout + first.stderr
    assert first.returncode == 1, said
    assert f"db/migrations/{BAD}:2: error require-concurrent-index-creation" in said
    # Judged against the schema the older files build (orders.payment_method comes from one of them),
    # and only the staged migration: not the query file, not the unstaged edit pre-commit stashed away.
    assert "unknown-table-or-column" not in said and "1 file(s) checked" in said
    assert "report.sql" not in said and "syntax-error" not in said

    run(repo, *pre_commit, "install", env=env)
    head = run(repo, "git", "rev-parse", "HEAD", env=env).stdout
    refused = run(repo, "git", "commit", "-m", "an index", env=env, check=False)
    assert refused.returncode != 0 and "require-concurrent-index-creation" in refused.stdout + refused.stderr
    assert run(repo, "git", "rev-parse", "HEAD", env=env).stdout == head  # nothing committed

    (migrations / BAD).write_text(FINE_SQL)  # warnings (no lock_timeout) do not refuse a commit
    run(repo, "git", "add", f"db/migrations/{BAD}", env=env)
    done = run(repo, "git", "commit", "-m", "a column", env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "flux validate" in done.stdout + done.stderr and "Passed" in done.stdout + done.stderr
    assert run(repo, "git", "rev-parse", "HEAD", env=env).stdout != head
