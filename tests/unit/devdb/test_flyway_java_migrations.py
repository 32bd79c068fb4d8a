"""Flyway's Java migrations (marquez's V56_1__FacetViews.java makes three views on lineage_events)
cannot run in the dev database: each stands in Flyway's version order as a note saying so, never
silently left out (a plan dropping a column they use was planned as if nothing did)."""

from __future__ import annotations

from pathlib import Path

from flux_agent.devdb.sources import project_scripts
from flux_agent.model.settings import Settings
from flux_agent.project.detect import detect


def _flyway(tmp_path: Path) -> Path:
    sql = tmp_path / "api" / "src" / "main" / "resources" / "db" / "migration"
    sql.mkdir(parents=True)
    for name in ("V1__init.sql", "V10__more.sql", "V2__next.sql", "R__views.sql"):
        (sql / name).write_text(f"CREATE TABLE t_{name[:3].strip('_')} (id int);\n", encoding="utf-8")
    code = tmp_path / "api" / "src" / "main" / "java" / "app" / "db" / "migrations"
    code.mkdir(parents=True)
    for name in ("V2_1__Backfill.java", "V11__Views.java", "R__Refresh.java", "Helper.java", "V3_Custom.java"):
        (code / name).write_text("package app.db.migrations;\n", encoding="utf-8")
    tests = tmp_path / "api" / "src" / "test" / "java"
    tests.mkdir(parents=True)
    (tests / "V9__NotAMigration.java").write_text("class T {}\n", encoding="utf-8")
    return tmp_path


def test_java_migrations_stand_in_flyway_order_as_notes(tmp_path):
    project = _flyway(tmp_path)
    found = detect(project, "flyway", Settings(migrations_dir="api/src/main/resources/db/migration"))
    scripts = project_scripts(project, found)
    assert [(s.name.rsplit("/", 1)[-1], bool(s.not_run)) for s in scripts] == [
        ("V1__init.sql", False), ("V2__next.sql", False), ("V2_1__Backfill.java", True), ("V10__more.sql", False),
        ("V11__Views.java", True), ("R__views.sql", False), ("R__Refresh.java", True)]
    assert all("Flyway Java migration" in s.not_run for s in scripts if s.name.endswith(".java"))


def test_other_tools_have_no_java_notes(tmp_path):
    project = _flyway(tmp_path)
    found = detect(project, "sql", Settings(migrations_dir="api/src/main/resources/db/migration"))
    assert not any(s.name.endswith(".java") for s in project_scripts(project, found))
