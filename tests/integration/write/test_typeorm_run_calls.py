"""A TypeORM application that runs its migrations itself (jellyseerr's server/index.ts:
`dbConnection.runMigrations()`) in TypeORM's default mode, "all", refuses a migration written with
`transaction = false` (ForbiddenTransactionModeOverrideError): writing such a plan gives the bare call
`{ transaction: 'each' }`, and the application then runs Flux's files on PostgreSQL."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import psycopg
import pytest

from cases import CASES
from js_tools import NODE, Project, modules
from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.write.deploy_groups import write_first
from flux_agent.write.tools import get_writer
from shop import SETTINGS, build_shop, shop_schema

OPS = {cid: ops for cid, ops, _ in CASES}
APP = """import "reflect-metadata";
import dataSource from "./data-source";

async function main(): Promise<void> {
  const db = await dataSource.initialize();
  await db.runMigrations();
  await db.destroy();
}

main().catch((e) => {
  console.error(`${e.name}: ${e.message}`);
  process.exit(1);
});
"""


def _app(project: Project) -> subprocess.CompletedProcess:
    return subprocess.run([NODE, "-r", "ts-node/register", "app.ts"], cwd=project.root, capture_output=True,
                          text=True, timeout=300, env={**__import__("os").environ, "TS_NODE_TRANSPILE_ONLY": "true"})


def _planned(root):
    """The add-index plan with the code changes `flux plan` gives it (entry/actions.plan_migration)."""
    plan = build_plan(parse_operations(OPS["add-index"]), shop_schema(), SETTINGS, tool="typeorm")
    laid = get_writer("typeorm").layout(plan, root, "migrations", datetime.now(timezone.utc))
    return plan.model_copy(update={"code_changes": get_writer("typeorm").code_changes(laid, root)})


def _indexes(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'orders'")}


@pytest.fixture
def app(pg_url, tmp_path) -> Project:
    """A TypeORM project on the shop database whose app.ts runs the migrations itself."""
    nm = modules("typeorm")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        build_shop(conn)
    root = tmp_path / "project"
    root.mkdir()
    project = Project("typeorm", root, pg_url, nm)
    (root / "app.ts").write_text(APP)
    return project


@pytest.mark.slow
@pytest.mark.node
def test_the_application_s_own_run_takes_flux_s_files(app, pg_url):
    root = app.root
    plan = _planned(root)
    assert any(not s.transactional for s in plan.steps)  # CREATE INDEX CONCURRENTLY: transaction = false

    before = _indexes(pg_url)
    outcome = write_first(plan, root, "migrations")
    assert "app.ts" in outcome.files  # the call, changed with the files
    assert 'await db.runMigrations({ transaction: "each" });' in (root / "app.ts").read_text()  # its quotes
    done = _app(app)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(_indexes(pg_url) - before) == 1  # the index, named as TypeORM names it


@pytest.mark.node
def test_without_the_change_the_application_refuses_the_files(app):
    """The check can fail: the same files, the call as it was."""
    write_first(_planned(app.root), app.root, "migrations")
    (app.root / "app.ts").write_text(APP)
    done = _app(app)
    assert done.returncode != 0 and "ForbiddenTransactionModeOverrideError" in done.stderr, done.stderr
