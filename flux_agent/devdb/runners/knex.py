"""knex: the project's own knex migrates the dev database up (migrate.latest) with the project's
knexfile, its connection replaced by the dev database's; where there is none, or it does not load
(ODK Central's reads a configuration folder its scripts name), with settings of the driver's own,
which the notes say."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..program import ToolRun
from . import _node

KNEXFILES = ("knexfile.js", "knexfile.ts", "knexfile.cjs", "knexfile.mjs", "knexfile.cts", "knexfile.mts")
# What the driver's note says where it ran the migrations with settings of its own (node_tools.cjs):
# how the build ran, not a failure of it.
OWN_SETTINGS = "ran the migrations with knex settings of Flux's own"


class KnexRunner:
    tool = "knex"

    def knexfile(self, project: Path, migrations_dir: str) -> Optional[Path]:
        return _node.nearest(project, migrations_dir, KNEXFILES)

    def inputs(self, project: Path, migrations_dir: str) -> list[Path]:
        knexfile = self.knexfile(project, migrations_dir)
        root = knexfile.parent if knexfile else _node.package_root(project, project / migrations_dir)
        return _node.existing([*_node.migration_files(project, migrations_dir), knexfile, root / "package.json",
                               root / "tsconfig.json", _node.installed(root, "knex")])

    def run(self, job: ToolRun) -> list[str]:
        # knex's CLI runs in the knexfile's folder; without one, in the package's
        knexfile = self.knexfile(job.project, job.migrations_dir)
        root = knexfile.parent if knexfile else _node.package_root(job.project, job.project / job.migrations_dir)
        files = _node.migration_files(job.project, job.migrations_dir)
        options = {"config": str(knexfile) if knexfile else None, "ts": _node.has_typescript(files)}
        return _node.run_node("knex", job, root, options, "knex")


RUNNER = KnexRunner()
