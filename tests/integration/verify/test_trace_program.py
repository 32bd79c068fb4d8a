"""`flux validate --trace` of a migration in program code that the project's history holds: traced on
a copy of the dev database the project's tool builds before it (devdb/before_file.built_without). On
a copy of the whole history, the file met its own changes: outline's newest sequelize migration was
a trace-failed error ('column "preferences" of relation "documents" already exists')."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.model.settings import Settings
from flux_agent.verify import trace
from tests.integration.devdb.test_program_node import make_project
from tests.integration.devdb.test_program_python import ONLINE_ONLY_ENV, alembic_project, django_project
from tests.integration.lint.test_readers_node import LOGGED, STEPS
from js_tools import modules

pytestmark = [pytest.mark.pg, pytest.mark.slow]


def _project(tool: str, root: Path) -> tuple[Path, Path, str]:
    """The project, the migration traced (one follows it), and the table its ALTER reaches."""
    if tool == "alembic":
        root = alembic_project(root, ONLINE_ONLY_ENV)
        return root, next((root / "alembic" / "versions").glob("b2c3*.py")), "books"
    if tool == "django":
        root = django_project(root)
        return root, root / "library" / "migrations" / "0002_book_pages.py", "library_book"
    make_project(tool, root, "host=/nowhere dbname=none user=u", modules(tool))
    pattern, body = LOGGED[tool]
    files = []
    for i, (step, sql) in enumerate(STEPS):
        files.append(root / (pattern % {"i": i, "name": step}))
        files[-1].write_text(body % {"i": i, "name": step, "sql": sql, "token": tool})
    return root, files[0], "users"


@pytest.mark.parametrize("tool", ["knex", "sequelize", "alembic", "django"])
def test_a_migration_of_the_history_is_traced_on_the_database_before_it(tool, tmp_path):
    root, file, table = _project(tool, tmp_path / "app")
    report = trace.run_trace([file], root, Settings(), tool, rows=20)
    assert trace.findings(report) == [], trace.findings(report)
    adds = [t for t in report.statements if t.locks.get(table) == "ACCESS EXCLUSIVE"]
    assert adds and all(t.matches for t in adds), report.statements
    assert not any("whole history" in n for n in report.notes)
