"""node-pg-migrate: the project's own node-pg-migrate runs `up` with the options its package.json
script gives it (config file, table, schema, ...), DATABASE_URL the dev database's."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Optional

from ..program import ToolRun
from . import _node

# The options that take a value (node-pg-migrate 6-9), long and short.
_VALUED = {"--database-url-var", "-d", "--migrations-dir", "-m", "--migrations-table", "-t", "--schema", "-s",
           "--migrations-schema", "--ignore-pattern", "--config-value", "--config-file", "-f",
           "--migration-file-language", "-j", "--migration-filename-format", "--template-file-name", "--envPath",
           "--lock-value", "--advisory-lock-mode", "--tsconfig-paths", "--tsconfig"}
# Flux's own: where the migrations are, which database, what to print; and nothing that would not migrate.
_DROPPED = {"--database-url-var", "-d", "--migrations-dir", "-m", "--verbose", "--no-verbose", "--dry-run", "--fake",
            "--timestamp"}
_SHELL = {"&&", "||", ";", "|", "&"}


def script_args(root: Path) -> list[str]:
    """The options of the package.json script that runs node-pg-migrate (the first one)."""
    scripts = _node.package_json(root).get("scripts")
    for command in (scripts.values() if isinstance(scripts, dict) else []):
        if not isinstance(command, str) or "node-pg-migrate" not in command:
            continue
        try:
            words = shlex.split(command)
        except ValueError:
            continue
        for i, word in enumerate(words):
            if Path(word).name in ("node-pg-migrate", "node-pg-migrate.js"):
                rest = words[i + 1:]
                cut = next((j for j, w in enumerate(rest) if w in _SHELL), len(rest))
                return rest[:cut]
    return []


def options(args: list[str]) -> tuple[list[str], Optional[str]]:
    """(the options Flux passes on, the migrations folder the script names). Positional words (the
    action, a count) are left out: Flux runs `up`, all of them."""
    kept, folder, i = [], None, 0
    while i < len(args):
        word = args[i]
        name, eq, value = word.partition("=")
        takes = name in _VALUED and not eq
        if takes and i + 1 < len(args):
            value = args[i + 1]
        if name in ("-m", "--migrations-dir"):
            folder = value
        if word.startswith("-") and name not in _DROPPED:
            kept.extend(args[i:i + 2] if takes else [word])
        i += 2 if takes else 1
    return kept, folder


def config_file(root: Path, args: list[str]) -> Optional[Path]:
    for i, word in enumerate(args):
        name, eq, value = word.partition("=")
        if name in ("-f", "--config-file"):
            return root / (value if eq else (args[i + 1] if i + 1 < len(args) else ""))
    return None


class NodePgMigrateRunner:
    tool = "node-pg-migrate"

    def inputs(self, project: Path, migrations_dir: str) -> list[Path]:
        root = _node.package_root(project, project / migrations_dir)
        args = options(script_args(root))[0]
        node_config = [root / "config" / f"{n}.json" for n in ("default", "development")]
        return _node.existing([*_node.migration_files(project, migrations_dir), root / "package.json",
                               config_file(root, args), *node_config, _node.installed(root, "node-pg-migrate")])

    def run(self, job: ToolRun) -> list[str]:
        root = _node.package_root(job.project, job.project / job.migrations_dir)
        args, folder = options(script_args(root))
        notes = []
        if folder and (root / folder).resolve() != (job.project / job.migrations_dir).resolve():
            notes.append(f"package.json runs node-pg-migrate on {folder}; Flux read {job.migrations_dir} "
                         "(set migrations_dir in .flux.yaml to change it)")
        return notes + _node.run_node("node-pg-migrate", job, root, {"args": args}, "node-pg-migrate")


RUNNER = NodePgMigrateRunner()
