"""A concurrent index build that fails half-way, healed by the tool's own migrate command run
again, for the tools that run here (alembic, django, knex, node-pg-migrate, sequelize, typeorm): the
unique build of products.sku meets a duplicate and fails, leaving an INVALID index and the
migration not recorded; once the duplicate is gone, the same command runs the written file
again, its guard drops the INVALID index, the build makes a VALID one, the constraint is
attached and the tool records both steps. Without the guard the second run would skip the
leftover (IF NOT EXISTS) and fail attaching an INVALID index, or record it as done."""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg
import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.project.detect import detect
from flux_agent.write.tools import get_writer

from shop import SETTINGS, build_shop, shop_schema
from js_tools import Project, modules
from tests.integration.write.test_writers_python_tools import FIRST_REV, Tool

pytestmark = [pytest.mark.slow, pytest.mark.pg]

OPS = [{"op": "add_unique", "table": "products", "columns": ["sku"]}]
INDEX = "products_sku_key"
DUPLICATE = "INSERT INTO products (sku, title) VALUES ('SKU-1', 'a copy of product 1')"


def _index(url: str) -> tuple[bool, bool] | None:
    """(valid, a constraint owns it) for the plan's index; None when there is none."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT i.indisvalid, EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            "FROM pg_index i WHERE i.indexrelid = to_regclass(%s)", [INDEX]).fetchone()
    return tuple(row) if row else None


def _write(tool: str, root) -> list:
    writer = get_writer(tool)
    plan = build_plan(parse_operations(OPS), shop_schema(), SETTINGS, tool=tool)
    folder = detect(root).migrations_dir if tool in ("alembic", "django") else writer.default_dir
    laid = writer.layout(plan, root, folder, datetime.now(timezone.utc))
    build = laid.steps[0]
    assert build.guard_sql and not build.transactional
    writer.write(laid, root)
    return [s for s in laid.steps if not s.is_code]


class _Python:
    def __init__(self, name: str, root, url: str):
        self.tool = Tool(name, root, url, "psycopg")
        self.tool.up()  # the first migration: the shop with its rows
        self.first = self.tool.applied()
        assert self.first == ([FIRST_REV] if name == "alembic" else ["0001_initial"])

    def migrate(self) -> None:
        self.tool.up()

    def recorded(self) -> int:
        applied = self.tool.applied()
        if self.tool.name == "alembic":  # one row: the head
            return 0 if applied == self.first else 2
        return len(applied) - len(self.first)


class _Js:
    def __init__(self, name: str, root, url: str):
        nm = modules(name)
        with psycopg.connect(url, autocommit=True) as conn:
            build_shop(conn)
        root.mkdir(exist_ok=True)
        self.project = Project(name, root, url, nm)

    def migrate(self) -> None:
        self.project.upgrade(None)

    def recorded(self) -> int:
        return self.project.recorded()


TOOLS = ["alembic", "django", "knex", "node-pg-migrate", "sequelize", "typeorm"]


@pytest.mark.parametrize("tool", TOOLS)
def test_a_failed_build_is_rebuilt_by_the_tools_own_migrate_run_again(tool, pg_url, tmp_path):
    root = tmp_path / "project"
    runner = _Python(tool, root.parent, pg_url) if tool in ("alembic", "django") else _Js(tool, root, pg_url)
    root = root.parent if tool in ("alembic", "django") else root
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(DUPLICATE)  # the unique build will fail on it, half-way
    steps = _write(tool, root)
    assert len(steps) == 2

    with pytest.raises(AssertionError, match="could not create unique index|is duplicated"):
        runner.migrate()
    assert _index(pg_url) == (False, False)  # INVALID, left behind
    assert runner.recorded() == 0  # the tool did not record the failed migration

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE title = 'a copy of product 1'")
    runner.migrate()  # the same command again: the guard drops the leftover, the build makes it anew
    assert _index(pg_url) == (True, True)  # VALID, and the constraint attached in step 2 owns it
    assert runner.recorded() == 2
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()[0] == 0
