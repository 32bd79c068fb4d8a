"""What the README's CI section and .pre-commit-hooks.yaml promise, checked without running them:
the hook file is valid by pre-commit's own schema and picks the migrations of each tool (and not
down files, package helpers or other SQL), and every `flux validate` line of the README's workflow
and pre-commit snippet is a command Flux's parser accepts (the slow tests run them for real)."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml
from identify.identify import tags_from_filename
from pre_commit.clientlib import load_config, load_manifest
from shop import ROOT

from flux_agent.entry.cli_args import parser as _parser

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def ci_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Flux in CI")
    return readme[start:readme.index("\n## ", start + 1)]


def yaml_blocks() -> list[dict]:
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", ci_section(), re.S)]


def passed(hook: dict, path: str) -> bool:
    """Whether pre-commit hands `path` to the hook: `files`, `exclude` and `types_or`, as it filters."""
    return (bool(re.search(hook["files"], path)) and not re.search(hook["exclude"], path)
            and bool(set(hook["types_or"]) & tags_from_filename(path)))


@pytest.mark.parametrize("path, expected", [
    ("db/migrations/20250101090000_create_users.sql", True),  # dbmate
    ("prisma/migrations/20240101_init/migration.sql", True),
    ("db/migrate/20240101000000_add_users.rb", True),  # Rails
    ("alembic/versions/1a2b3c_add_users.py", True),
    ("app/migrations/0002_add_users.py", True),  # Django
    ("src/migrations/1700000000000-AddUsers.ts", True),  # TypeORM
    ("migrations/20240101_add_users.js", True),  # Knex
    ("src/main/resources/db/migration/V2__add_users.sql", True),  # Flyway
    ("deploy/add_users.sql", True),  # sqitch
    ("migrations/000001_add_users.up.sql", True),  # golang-migrate
    ("migrations/000001_add_users.down.sql", False),
    ("app/migrations/__init__.py", False),
    ("alembic/env.py", False),
    ("migrations/env.py", False),
    ("queries/report.sql", False),
    ("db/schema.sql", False),
    ("migrations/README.md", False),
])
def test_the_hook_is_handed_migrations_only(path, expected):
    (hook,) = load_manifest(str(HOOKS))  # pre-commit's own schema for a hook repository
    assert hook["id"] == "flux-validate" and hook["language"] == "python" and hook["require_serial"]
    assert passed(hook, path) is expected


def test_the_hook_entry_is_a_flux_command():
    (hook,) = load_manifest(str(HOOKS))
    program, *argv = shlex.split(hook["entry"])
    assert program == "flux"
    args = _parser().parse_args([*argv, *hook["args"], "db/migrations/1_x.sql"])  # files come last
    assert args.command == "validate" and args.paths == ["db/migrations/1_x.sql"]


def test_the_readme_pre_commit_snippet_names_the_hook(tmp_path):
    config = next(b for b in yaml_blocks() if "repos" in b)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    (repo,) = load_config(str(tmp_path / "config.yaml"))["repos"]  # pre-commit's own schema
    assert [h["id"] for h in repo["hooks"]] == [h["id"] for h in load_manifest(str(HOOKS))]


def test_the_readme_workflow_runs_flux_commands_the_parser_accepts():
    workflow = next(b for b in yaml_blocks() if "jobs" in b)
    runs = [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "flux validate" in s.get("run", "")]
    assert len(runs) == 2
    formats = set()
    for run in runs:
        command = run.replace("${{ github.base_ref }}", "main").split(" > ")[0]
        program, *argv = shlex.split(command)
        args = _parser().parse_args(argv)
        assert program == "flux" and args.command == "validate" and args.since == "origin/main"
        formats.add(args.format)
    assert formats == {"github", "sarif"}
    for line in re.findall(r"^flux validate .*?(?=\s+#)", ci_section(), re.M):  # the bash block's lines
        args = _parser().parse_args(shlex.split(line.split(" > ")[0])[1:])
        assert args.since == "origin/main"
