"""sequelize: the project's own sequelize-cli runs `db:migrate` with the project's .sequelizerc and
config, its connection replaced by the dev database's."""

from __future__ import annotations

import re
from pathlib import Path

from ..program import ToolRun
from . import _node

_CONFIG_KEY = re.compile(r"['\"]config['\"]\s*:\s*(.*)")
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def tool_root(project: Path, migrations_dir: str) -> Path:
    rc = _node.nearest(project, migrations_dir, (".sequelizerc",))
    if rc is not None:
        return rc.parent
    config = _node.nearest(project, migrations_dir, ("config/config.json", "config/config.js"))
    return config.parent.parent if config else _node.package_root(project, project / migrations_dir)


def config_files(root: Path) -> list[Path]:
    """.sequelizerc and the config it names (or sequelize-cli's default, config/config.json or .js)."""
    files = [root / ".sequelizerc", root / "config" / "config.json", root / "config" / "config.js"]
    try:
        text = (root / ".sequelizerc").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    m = _CONFIG_KEY.search(text)
    if m:  # path.resolve('db', 'config.json') -> db/config.json
        parts = [p for p in _QUOTED.findall(m.group(1).split("),")[0]) if p not in (".", "./")]
        if parts:
            files.append(root.joinpath(*parts))
    return files


class SequelizeRunner:
    tool = "sequelize"

    def inputs(self, project: Path, migrations_dir: str) -> list[Path]:
        root = tool_root(project, migrations_dir)
        return _node.existing([*_node.migration_files(project, migrations_dir), *config_files(root),
                               root / "package.json", _node.installed(root, "sequelize-cli"),
                               _node.installed(root, "sequelize")])

    def run(self, job: ToolRun) -> list[str]:
        root = tool_root(job.project, job.migrations_dir)
        files = _node.migration_files(job.project, job.migrations_dir)
        return _node.run_node("sequelize", job, root, {"ts": _node.has_typescript(files)}, "sequelize-cli")


RUNNER = SequelizeRunner()
