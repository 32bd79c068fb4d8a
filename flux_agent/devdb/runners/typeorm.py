"""typeorm: the project's own TypeORM runs its migrations up (DataSource.runMigrations, each in its
transaction) from the project's DataSource file, its connection replaced by the dev database's; where
there is none, or it does not load (a project not built: misskey's imports its build output), with a
data source of the driver's own, which the notes say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from ..program import ToolRun
from . import _node

# What the driver's note says where it ran the migrations with a data source of its own (node_typeorm.cjs):
# how the build ran, not a failure of it.
OWN_SOURCE = "ran the migrations with a TypeORM data source of Flux's own"

# Where projects keep the DataSource the typeorm CLI is given with -d, most usual first.
NAMES = ("data-source.ts", "data-source.js", "src/data-source.ts", "src/data-source.js", "datasource.ts",
         "src/datasource.ts", "src/db/data-source.ts", "src/database/data-source.ts", "src/config/data-source.ts",
         "typeorm.config.ts", "src/typeorm.config.ts", "ormconfig.ts", "ormconfig.js", "ormconfig.json")
_CLI_SOURCE = re.compile(r"(?:^|\s)(?:-d|--dataSource|--data-source)(?:=|\s+)[\"']?([^\s\"'&|;]+)")
_NEW_SOURCE = re.compile(r"\bnew\s+DataSource\s*\(")
_SCAN_EXT = {".ts", ".js", ".mts", ".cts", ".mjs", ".cjs"}
_SCAN_LIMIT = 2_000


def data_source(root: Path) -> Optional[Path]:
    """The project's DataSource file: the one its package.json scripts give the typeorm CLI, a
    usual name, or the one source file that constructs a DataSource."""
    scripts = _node.package_json(root).get("scripts")
    for command in (scripts.values() if isinstance(scripts, dict) else []):
        if isinstance(command, str) and "typeorm" in command:
            m = _CLI_SOURCE.search(command)
            if m and (root / m.group(1)).is_file():
                return root / m.group(1)
    for name in NAMES:
        if (root / name).is_file():
            return root / name
    found = []
    for path in _scan(root):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if _NEW_SOURCE.search(text) and _exports_source(text):
            found.append((0 if "migrations" in text else 1, len(path.parts), path))
    return min(found)[2] if found else None


_EXPORTED_NEW = re.compile(r"(?:export\s+default|module\.exports\s*=)\s*new\s+DataSource\s*\(")
_NAMED_NEW = re.compile(r"(export\s+)?(?:const|let|var)\s+(\w+)(?:\s*:\s*[\w.<>]+)?\s*=\s*new\s+DataSource\s*\(")


def _exports_source(text: str) -> bool:
    """Does the file export the DataSource it makes (what `typeorm -d` and Flux's driver load)?
    ever-gauzy's migration-executor.ts makes one inside a function and exports none: picked for its
    `new DataSource(`, it failed to load where "no DataSource file" was the truth."""
    if _EXPORTED_NEW.search(text):
        return True
    for m in _NAMED_NEW.finditer(text):
        name = re.escape(m.group(2))
        if m.group(1) or re.search(rf"export\s+default\s+{name}\b|export\s*\{{[^}}]*\b{name}\b|"
                                   rf"module\.exports\s*=\s*{name}\b", text):
            return True
    return False


def _scan(root: Path) -> list[Path]:
    out: list[Path] = []
    stack = [root]
    while stack and len(out) < _SCAN_LIMIT:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir() and entry.name not in _node._SKIP and not entry.name.startswith("."):
                if len(entry.relative_to(root).parts) < 4:
                    stack.append(entry)
            elif entry.suffix in _SCAN_EXT and not entry.name.endswith(".d.ts"):
                out.append(entry)
    return out


class TypeormRunner:
    tool = "typeorm"

    def inputs(self, project: Path, migrations_dir: str) -> list[Path]:
        root = _node.package_root(project, project / migrations_dir)
        return _node.existing([*_node.migration_files(project, migrations_dir), data_source(root),
                               root / "package.json", root / "tsconfig.json", _node.installed(root, "typeorm")])

    def run(self, job: ToolRun) -> list[str]:
        root = _node.package_root(job.project, job.project / job.migrations_dir)
        # No DataSource file, or one that does not load: the driver runs the migrations with one of its own.
        source = data_source(root)
        files = _node.migration_files(job.project, job.migrations_dir)
        options = {"config": str(source) if source else None, "ts": _node.has_typescript(files + ([source] if source else [])),
                   "files": sum(f.suffix in _SCAN_EXT for f in files)}
        return _node.run_node("typeorm", job, root, options, "typeorm")


RUNNER = TypeormRunner()
