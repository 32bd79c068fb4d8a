"""A written JavaScript/TypeScript migration passes the project's own formatter check (prettier, oxfmt,
Biome, as tests/node installs them) and still runs in the tool: `flux plan --write`'s path (write_first)
with each formatter configured unlike Flux's own layout, the formatter's check on what was written, then
the tool's upgrade, rollback and upgrade on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from cases import CASES
from js_tools import NPM_DIRS, Project, modules
from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.write.deploy_groups import write_first
from flux_agent.write.tools import get_writer
from shop import SETTINGS, build_shop, shop_schema

JS_TOOLS = ["knex", "sequelize", "typeorm", "node-pg-migrate"]
OPS = {cid: ops for cid, ops, _ in CASES}
# Each formatter configured as a project might, never as Flux writes (double quotes, semicolons, no width).
CONFIGS = {
    "prettier": (".prettierrc", {"singleQuote": True, "semi": False, "trailingComma": "all", "printWidth": 100}),
    "oxfmt": (".oxfmtrc.json", {"printWidth": 80, "trailingComma": "es5", "useTabs": True}),
    "biome": ("biome.json", {"formatter": {"indentStyle": "space", "indentWidth": 4, "lineWidth": 90},
                             "javascript": {"formatter": {"quoteStyle": "single", "semicolons": "asNeeded"}}}),
}
PACKAGE = {"prettier": "prettier", "oxfmt": "oxfmt", "biome": "@biomejs/biome"}


def _bin(name: str) -> Path:
    for folder in NPM_DIRS:
        if (folder / PACKAGE[name] / "package.json").is_file():
            return folder / ".bin" / name
    pytest.skip(f"{name} is not installed (npm install --prefix tests/node)")


def check(name: str, root: Path, files: list[str]) -> subprocess.CompletedProcess:
    """The formatter's own check of `files`, as a project's CI runs it."""
    exe = str(_bin(name))
    argv = [exe, "format", *files] if name == "biome" else [exe, "--check", *files]
    return subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=120)


def _columns(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'")}


@pytest.mark.slow
@pytest.mark.node
# Every formatter on a transactional plan; the non-transactional form (one query a statement) with one.
@pytest.mark.parametrize("formatter,case", [(f, "rename-column") for f in CONFIGS] + [("prettier", "add-index")])
@pytest.mark.parametrize("tool", JS_TOOLS)
def test_written_migration_passes_the_project_s_formatter_and_runs(tool, formatter, case, pg_url, tmp_path):
    nm = modules(tool)
    _bin(formatter)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        build_shop(conn)
    root = tmp_path / "project"
    root.mkdir()
    project = Project(tool, root, pg_url, nm)
    name, config = CONFIGS[formatter]
    (root / name).write_text(json.dumps(config))
    plan = build_plan(parse_operations(OPS[case]), shop_schema(), SETTINGS, tool=tool)

    outcome = write_first(plan, root, get_writer(tool).default_dir)
    assert outcome.formatted_with == [formatter] and outcome.notes == []
    done = check(formatter, root, outcome.files + [outcome.record])  # the plan record is committed too
    assert done.returncode == 0, done.stdout + done.stderr
    written = [root / f for f in outcome.files]
    project.check_syntax(written)
    laid = outcome.plan.model_copy(update={"steps": [s for s in outcome.plan.steps if s.number in outcome.written_steps]})
    project.round_trip(laid, _columns if case == "rename-column" else _indexes)


def _indexes(url: str) -> set[str]:
    with psycopg.connect(url) as conn:  # the table's own: the tool's table of runs comes with the first upgrade
        return {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'orders'")}


@pytest.mark.node
def test_flux_s_own_layout_fails_the_check_it_now_passes(tmp_path):
    """The check can fail: the file as the writer alone makes it is not in prettier's layout."""
    _bin("prettier")
    root = tmp_path / "project"
    (root / "migrations").mkdir(parents=True)
    (root / "node_modules").symlink_to(next(d for d in NPM_DIRS if (d / "prettier").is_dir()))
    (root / ".prettierrc").write_text(json.dumps(CONFIGS["prettier"][1]))
    plan = build_plan(parse_operations(OPS["rename-column"]), shop_schema(), SETTINGS, tool="knex")
    laid = get_writer("knex").layout(plan, root, "migrations", datetime.now(timezone.utc))
    written = get_writer("knex").write(laid, root)
    assert check("prettier", root, [p.relative_to(root).as_posix() for p in written]).returncode != 0
