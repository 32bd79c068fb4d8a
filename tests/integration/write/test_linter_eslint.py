"""A written JavaScript migration passes the project's own ESLint (tests/node installs it): `flux plan
--write`'s path (write_first) in a project whose eslint.config.mjs asks for what Flux does not write
(single quotes, no semicolons, const), alone and after prettier; ESLint's own check passes on what was
written and the tool still runs it up, down and up on PostgreSQL. What --fix cannot mend is a note; an
ESLint that cannot run leaves the file as formatted, with a note."""

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

OPS = {cid: ops for cid, ops, _ in CASES}
STYLE = ('export default [{ files: ["**/*.js"], languageOptions: { sourceType: "commonjs" }, rules: {'
         ' quotes: ["error", "single"], semi: ["error", "never"], "prefer-const": "error"%s } }];\n')


def _eslint() -> Path:
    for folder in NPM_DIRS:
        if (folder / "eslint" / "package.json").is_file():
            return folder / ".bin" / "eslint"
    pytest.skip("eslint is not installed (npm install --prefix tests/node)")


def lint(root: Path, files: list[str]) -> subprocess.CompletedProcess:
    """ESLint's check of `files`, as the project's CI runs it."""
    return subprocess.run([str(_eslint()), *files], cwd=root, capture_output=True, text=True, timeout=120)


def _columns(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'")}


def _plan(tool: str):
    return build_plan(parse_operations(OPS["rename-column"]), shop_schema(), SETTINGS, tool=tool)


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.parametrize("tool,prettier", [("knex", False), ("knex", True), ("sequelize", False)])
def test_written_migration_passes_the_project_s_eslint_and_runs(tool, prettier, pg_url, tmp_path):
    nm = modules(tool)
    _eslint()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        build_shop(conn)
    root = tmp_path / "project"
    root.mkdir()
    project = Project(tool, root, pg_url, nm)
    (root / "eslint.config.mjs").write_text(STYLE % "")
    if prettier:  # the usual pair: prettier formats, ESLint's rules agree with it
        (root / ".prettierrc").write_text('{"singleQuote": true, "semi": false}')

    outcome = write_first(_plan(tool), root, get_writer(tool).default_dir)
    assert outcome.formatted_with == (["prettier"] if prettier else []) + ["eslint --fix"]
    assert outcome.notes == []
    done = lint(root, outcome.files)
    assert done.returncode == 0, done.stdout + done.stderr
    laid = outcome.plan.model_copy(update={"steps": [s for s in outcome.plan.steps if s.number in outcome.written_steps]})
    project.round_trip(laid, _columns)


def _knex_project(tmp_path: Path, config: str) -> Path:
    root = tmp_path / "project"
    (root / "migrations").mkdir(parents=True)
    (root / "node_modules").symlink_to(_eslint().parents[1], target_is_directory=True)
    (root / "eslint.config.mjs").write_text(config)
    return root


@pytest.mark.node
def test_flux_s_own_layout_fails_the_lint_it_now_passes(tmp_path):
    """The check can fail: the file as the writer alone makes it breaks the project's rules."""
    root = _knex_project(tmp_path, STYLE % "")
    laid = get_writer("knex").layout(_plan("knex"), root, "migrations", datetime.now(timezone.utc))
    written = get_writer("knex").write(laid, root)
    assert lint(root, [p.relative_to(root).as_posix() for p in written]).returncode != 0


@pytest.mark.node
def test_what_eslint_cannot_mend_is_a_note_and_the_file_is_still_written(tmp_path):
    root = _knex_project(tmp_path, STYLE % ', "max-lines": ["error", 3]')
    outcome = write_first(_plan("knex"), root, "migrations")
    assert outcome.formatted_with == ["eslint --fix"] and outcome.files
    assert len(outcome.notes) == len(outcome.files)
    assert all("ESLint reports what --fix cannot mend: max-lines (line" in n for n in outcome.notes)
    done = lint(root, ["--format", "json", *outcome.files])  # the rest mended: max-lines is all that is left
    assert {m["ruleId"] for r in json.loads(done.stdout) for m in r["messages"]} == {"max-lines"}


@pytest.mark.node
def test_an_eslint_that_cannot_run_leaves_the_file_as_formatted(tmp_path):
    root = _knex_project(tmp_path, 'throw new Error("this config is broken");\n')
    plain = write_first(_plan("knex"), _knex_project(tmp_path / "plain", "export default [];\n"), "migrations")
    outcome = write_first(_plan("knex"), root, "migrations")
    assert outcome.formatted_with == [] and len(outcome.notes) == len(outcome.files)
    assert all("ESLint exited 2" in n and n.endswith("; not linted") for n in outcome.notes)
    assert (root / outcome.files[0]).read_text() == (tmp_path / "plain/project" / plain.files[0]).read_text()
