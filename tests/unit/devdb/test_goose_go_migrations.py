"""goose's Go migrations (registered in the project's own binary) cannot run in the dev database:
each stands in the build's order as a note saying so, never silently left out (hatchet's history
has nine, and the SQL after one locks tables it made)."""

from __future__ import annotations

from pathlib import Path

from flux_agent.devdb.sources import project_scripts
from flux_agent.model.settings import Settings
from flux_agent.project.detect import detect


def _goose(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name in names:
        body = ("-- +goose Up\nCREATE TABLE t%s (id int);\n-- +goose Down\n" % name[:3] if name.endswith(".sql")
                else "package migrations\n")
        (folder / name).write_text(body, encoding="utf-8")
    return tmp_path


def test_go_migrations_stand_in_goose_order_as_notes(tmp_path):
    project = _goose(tmp_path, ["003_c.sql", "001_a.sql", "002_b.go", "010_d.go", "004_e_test.go", "helpers.go"])
    found = detect(project)
    assert found.tool == "goose"
    scripts = project_scripts(project, found)
    assert [(s.name, bool(s.not_run)) for s in scripts] == [
        ("migrations/001_a.sql", False), ("migrations/002_b.go", True), ("migrations/003_c.sql", False),
        ("migrations/010_d.go", True)]
    assert "goose Go migration" in scripts[1].not_run and scripts[1].sql == ""


def test_other_tools_have_no_go_notes(tmp_path):
    project = _goose(tmp_path, ["001_a.sql", "002_b.go"])
    found = detect(project, "dbmate", Settings(migrations_dir="migrations"))
    assert [s.name for s in project_scripts(project, found)] == ["migrations/001_a.sql"]
