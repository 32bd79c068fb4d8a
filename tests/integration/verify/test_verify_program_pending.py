"""`flux verify` of a plan written into a project whose migrations are program code: it starts
from the dev database the project's own tool builds without the plan's files: a Node tool's (knex,
sequelize, typeorm, node-pg-migrate) up to the plan's first file (devdb/before_file.py), alembic's
and Django's leaving them out (ToolRun.leave_out). A replay reads no program code, so it started
from an empty database: "unknown table 'shares' (known tables: none)" on outline's sequelize
project, the same for alembic and Django."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from flux_agent.entry.cli import main
from flux_agent.verify import verify
from flux_agent.entry import actions
from tests.integration.devdb.test_program_node import make_project
from tests.integration.devdb.test_program_python import ONLINE_ONLY_ENV, alembic_project, django_project
from js_tools import modules

pytestmark = [pytest.mark.pg, pytest.mark.node, pytest.mark.slow]


@pytest.mark.parametrize("tool", ["knex", "sequelize", "typeorm", "node-pg-migrate"])
def test_a_pending_plan_starts_from_the_migrations_before_its_files(tool, tmp_path):
    root = tmp_path / "app"
    make_project(tool, root, "host=/nowhere dbname=none user=u", modules(tool))  # only the dev database is used
    op = {"op": "rename_column", "table": "products", "column": "name", "new_name": "title"}
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["plan", "--project", str(root), "--op", json.dumps([op]), "--write"]) == 0, err.getvalue()
    report = verify(root, rows=20)
    assert report.ok, report.failure
    assert "a copy of the dev database" in report.database
    # the rename's expand step ran on a table that holds the old column and rows, not on a bare one
    assert report.seeded.get("products") == 20
    assert [s.direction for s in report.steps if s.number == 1] == ["forward", "rollback", "forward-again"]
    # the tool's own runs table holds its runs, no synthetic rows (nestjs-boilerplate's got eleven)
    assert not {"migrations", "knex_migrations", "SequelizeMeta", "pgmigrations"} & set(report.seeded)


@pytest.mark.parametrize("tool", ["django", "alembic"])
def test_a_pending_plan_of_a_python_tool_starts_without_its_files(tool, tmp_path):
    root = django_project(tmp_path / "dj") if tool == "django" else alembic_project(tmp_path / "al", ONLINE_ONLY_ENV)
    table = "library_book" if tool == "django" else "books"
    plan = actions.plan_migration([{"op": "rename_column", "table": table, "column": "title", "new_name": "name"}],
                                  str(root))
    assert actions.write_migration(plan, str(root)).remaining_steps  # the contract waits: a pending plan
    report = verify(root, rows=20)
    assert report.ok, report.failure
    assert "a copy of the dev database" in report.database and report.seeded.get(table) == 20
    assert not {"django_migrations", "alembic_version"} & set(report.seeded)


def test_the_database_to_copy_is_looked_for_on_the_server_not_in_the_cache_of_schemas(tmp_path, monkeypatch):
    """A schema cached from a database since pruned, or built by another dev server: copying it
    failed ("template database ... does not exist")."""
    from flux_agent.devdb import program
    from flux_agent.devdb.build import Built
    from flux_agent.model.schema import Schema

    root = alembic_project(tmp_path / "al", ONLINE_ONLY_ENV)
    plan = actions.plan_migration([{"op": "rename_column", "table": "books", "column": "title", "new_name": "name"}],
                                  str(root))
    actions.write_migration(plan, str(root))
    monkeypatch.setattr(program, "cached", lambda key: Built("flux_gone_since", Schema(), [], 0.0, True))
    report = verify(root, rows=5)
    assert report.ok, report.failure


@pytest.mark.parametrize("tool", ["sequelize", "django"])
def test_given_operations_it_runs_on_a_copy_of_the_database_the_tool_built(tool, tmp_path):
    """Not on a database built again from Flux's model of it (what PostgreSQL holds is the truth)."""
    if tool == "django":
        root, table = django_project(tmp_path / "dj"), "library_book"
    else:
        root, table = tmp_path / "app", "products"
        make_project(tool, root, "host=/nowhere dbname=none user=u", modules(tool))
    report = verify(root, operations=[{"op": "add_index", "table": table, "columns": ["id", "title" if tool ==
                                                                                        "django" else "name"]}],
                    rows=10)
    assert report.ok, report.failure
    assert "a copy of the dev database" in report.database
