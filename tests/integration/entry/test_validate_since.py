"""`flux validate --since GIT_REF` in a git repository made here with the real `git`: only the files
added or changed since the ref's merge base with HEAD (committed, uncommitted or untracked) are
judged, the older ones still build the schema they are judged against; a bad ref or no repository
is bad input (exit 2, one line)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from shop import SHOP

from flux_agent.entry.cli import main
from flux_agent.entry.validate import validate_paths

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

NEW_INDEX = "20250201000000_index_payment_method.sql"
# orders.payment_method is made by the old 20250101090400_add_payment_method.sql; the index is built
# without CONCURRENTLY, an error of its own.
NEW_INDEX_SQL = """-- migrate:up
CREATE INDEX orders_payment_method_idx ON orders (payment_method);

-- migrate:down
DROP INDEX orders_payment_method_idx;
"""
UNTRACKED = "20250201000100_add_nickname.sql"
UNTRACKED_SQL = """-- migrate:up
ALTER TABLE users ADD COLUMN nickname varchar(40);

-- migrate:down
ALTER TABLE users DROP COLUMN nickname;
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """examples/shop committed on main; a feature branch that adds a migration and edits an old one,
    with an untracked new migration; meanwhile main edited another old one (after the branch point,
    so it is not the feature's change)."""
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(key, raising=False)
    root = tmp_path / "repo"
    shutil.copytree(SHOP, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    commit_all(root, "the history")
    git(root, "checkout", "-q", "-b", "feature")
    migrations = root / "db" / "migrations"
    (migrations / NEW_INDEX).write_text(NEW_INDEX_SQL)
    products = migrations / "20250101090100_create_products.sql"
    products.write_text(products.read_text().replace("stock integer", "stock integer,\n    weight_g integer"))
    commit_all(root, "feature: an index, a column in an old file")
    git(root, "checkout", "-q", "main")
    legacy = migrations / "20250101090300_create_legacy_events.sql"
    legacy.write_text(legacy.read_text().replace("payload jsonb", "payload jsonb,\n    source varchar(20)"))
    commit_all(root, "main moves on")
    git(root, "checkout", "-q", "feature")
    (migrations / UNTRACKED).write_text(UNTRACKED_SQL)
    monkeypatch.chdir(root)
    return root


def names(files) -> set[str]:
    return {Path(f).name for f in files}


def test_since_judges_only_the_new_and_changed_files_against_the_older_ones(repo, capsys):
    files, findings = validate_paths([], str(repo), since="main")
    # The merge base, not main's tip: main's later edit of the legacy events file is not this branch's.
    assert names(files) == {NEW_INDEX, UNTRACKED, "20250101090100_create_products.sql"}
    assert names(f.path for f in findings) <= names(files)
    on_index = {f.rule for f in findings if f.path.endswith(NEW_INDEX)}
    assert "require-concurrent-index-creation" in on_index
    assert "unknown-table-or-column" not in on_index  # the old file that adds payment_method built the schema

    code = main(["validate", "--since", "main", "--json"])
    out, err = capsys.readouterr()
    listed = json.loads(out)
    assert code == 1 and err == ""  # an error finding: refused
    assert [(Path(f["path"]).name, f["line"], f["rule"]) for f in listed] == [
        (Path(f.path).name, f.line, f.rule) for f in findings]
    assert all(not Path(f["path"]).is_absolute() for f in listed)  # shown as found under --project .

    # Uncommitted work only: against HEAD the one untracked file.
    files, _ = validate_paths([], str(repo), since="HEAD")
    assert names(files) == {UNTRACKED}
    # Explicit paths narrowed the same way.
    files, _ = validate_paths(["db/migrations"], str(repo), since="feature~1")
    assert names(files) == {NEW_INDEX, UNTRACKED, "20250101090100_create_products.sql"}


def test_without_the_older_files_the_same_file_has_an_unknown_column(repo):
    """The control: the finding --since must not give appears when the old file is not there."""
    (repo / "db" / "migrations" / "20250101090400_add_payment_method.sql").unlink()
    files, findings = validate_paths([], str(repo), since="main")
    assert NEW_INDEX in names(files)
    assert "unknown-table-or-column" in {f.rule for f in findings if f.path.endswith(NEW_INDEX)}


def test_renamed_and_deleted_files(repo):
    migrations = repo / "db" / "migrations"
    (migrations / UNTRACKED).unlink()
    git(repo, "mv", "db/migrations/" + NEW_INDEX, "db/migrations/20250301000000_index_payment_method.sql")
    git(repo, "rm", "-q", "db/migrations/20250101090300_create_legacy_events.sql")
    files, _ = validate_paths([], str(repo), since="HEAD")
    assert names(files) == {"20250301000000_index_payment_method.sql"}  # a rename is a new file; a deletion nothing


def test_nothing_changed_checks_nothing_and_passes(repo, capsys):
    (repo / "db" / "migrations" / UNTRACKED).unlink()
    assert main(["validate", "--since", "HEAD"]) == 0
    assert capsys.readouterr().out.startswith("0 file(s) checked")


@pytest.mark.parametrize("argv, says", [
    (["--since", "no-such-branch"], "--since 'no-such-branch': no such commit"),
    (["--since=--all"], "not a git ref"),
])
def test_a_bad_ref_is_bad_input(repo, capsys, argv, says):
    assert main(["validate", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("flux: ") and says in err, err


def test_outside_a_git_repository_is_bad_input(tmp_path, capsys, monkeypatch):
    shutil.copytree(SHOP, tmp_path / "shop")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # no repository above tmp_path is found
    assert main(["validate", "--since", "HEAD", "--project", str(tmp_path / "shop"), "--json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["exit"] == 2 and "needs a git repository" in err and err.count("\n") == 1


def test_the_mcp_tool_takes_since(repo):
    from flux_agent.entry.tool_specs import ValidateRequest, validate_migration

    result = validate_migration(ValidateRequest(paths=["db/migrations"], since="main"), repo)
    assert names(f.path for f in result.findings) <= {NEW_INDEX, UNTRACKED, "20250101090100_create_products.sql"}
    assert NEW_INDEX in names(f.path for f in result.findings) and result.errors >= 1


def test_a_project_in_a_subfolder_of_the_repository(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    root = tmp_path / "mono"
    shutil.copytree(SHOP, root / "backend")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    commit_all(root, "the history")
    (root / "backend" / "db" / "migrations" / NEW_INDEX).write_text(NEW_INDEX_SQL)
    monkeypatch.chdir(root)
    assert main(["validate", "--since", "HEAD", "--project", "backend", "--format", "github"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"::error file=backend/db/migrations/{NEW_INDEX},line=2,")
    assert out[-1].startswith("flux: 1 file(s) checked")
    assert not any("unknown-table-or-column" in line for line in out)
