"""Alembic's post_write_hooks and Django's makemigrations formatting run on the files Flux writes, as
each tool runs them on its own: `flux plan --write`'s path (write_first) in a real Alembic project whose
alembic.ini formats new revisions with ruff (configured unlike Flux's layout), and a real Django
project with black installed; the formatter's own check passes, and the tool still upgrades,
downgrades and upgrades again on PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from flux_agent.write.deploy_groups import write_first
from tests.integration.write.test_writers_python_tools import Tool, plan_for, tables

CASE = "rename-column"


def _exe(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


def _hooks(root: Path, executable: str) -> None:
    """alembic.ini's [post_write_hooks] (its template has the section, commented out) set to ruff format."""
    ini = root / "alembic.ini"
    ini.write_text(ini.read_text().replace("[post_write_hooks]\n", (
        "[post_write_hooks]\nhooks = ruff_format\nruff_format.type = exec\n"
        f"ruff_format.executable = {executable}\nruff_format.options = format REVISION_SCRIPT_FILENAME\n"), 1))


def _round_trip(tool: Tool, url: str) -> None:
    """The written group (the rename's expand: the new column kept in step) up, down, up again."""
    with psycopg.connect(url) as conn:
        original = tables(conn)
    tool.up()
    with psycopg.connect(url) as conn:
        applied = tables(conn)
    assert "email_address" in [c[0] for c in applied["users"]] and applied != original
    tool.down_to_first()
    with psycopg.connect(url) as conn:
        assert tables(conn) == original
    tool.up()
    with psycopg.connect(url) as conn:
        assert tables(conn) == applied


@pytest.mark.slow
def test_alembic_s_post_write_hooks_format_the_written_revisions(pg_url, tmp_path):
    ruff = _exe("ruff")
    tool = Tool("alembic", tmp_path, pg_url, "psycopg2")
    (tmp_path / "ruff.toml").write_text('line-length = 100\n[format]\nquote-style = "single"\n')
    _hooks(tmp_path, ruff)
    tool.up()
    outcome = write_first(plan_for(CASE, "alembic"), tmp_path, "alembic/versions")
    assert outcome.formatted_with == ["alembic's post_write_hooks: ruff_format"] and outcome.notes == []
    done = subprocess.run([ruff, "format", "--check", *outcome.files], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list(tmp_path.rglob(".flux-format-*"))  # the copies it formatted are gone
    _round_trip(tool, pg_url)


@pytest.mark.slow
def test_without_the_hooks_the_check_fails(tmp_path, pg_url):
    """The check above can fail: without post_write_hooks the same revision is not in ruff's layout."""
    ruff = _exe("ruff")
    Tool("alembic", tmp_path, pg_url, "psycopg2")
    (tmp_path / "ruff.toml").write_text('line-length = 100\n[format]\nquote-style = "single"\n')
    outcome = write_first(plan_for(CASE, "alembic"), tmp_path, "alembic/versions")
    assert outcome.formatted_with == []
    done = subprocess.run([ruff, "format", "--check", *outcome.files], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr


@pytest.mark.slow
def test_a_failing_hook_leaves_a_note_and_the_file_as_flux_made_it(pg_url, tmp_path):
    tool = Tool("alembic", tmp_path, pg_url, "psycopg2")
    tool.up()
    _hooks(tmp_path, str(tmp_path / "no-such-formatter"))
    outcome = write_first(plan_for(CASE, "alembic"), tmp_path, "alembic/versions")
    assert outcome.formatted_with == []
    assert outcome.notes and all("alembic's post_write_hooks did not run" in n for n in outcome.notes)
    _round_trip(tool, pg_url)


@pytest.mark.slow
def test_django_s_formatting_runs_black_on_the_written_migrations(pg_url, tmp_path):
    black = _exe("black")
    tool = Tool("django", tmp_path, pg_url, "psycopg")
    tool.up()
    outcome = write_first(plan_for(CASE, "django"), tmp_path, "shop/migrations")
    assert outcome.formatted_with == ["Django's run_formatters: black"] and outcome.notes == []
    done = subprocess.run([black, "--check", *outcome.files], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    _round_trip(tool, pg_url)
