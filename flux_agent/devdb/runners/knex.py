"""knex: the project's own knex migrates the dev database up (migrate.latest) with the project's
knexfile, its connection replaced by the dev database's."""

from __future__ import annotations

from pathlib import Path

from ...errors import FluxInputError
from ..program import ToolRun
from . import _node

KNEXFILES = ("knexfile.js", "knexfile.ts", "knexfile.cjs", "knexfile.mjs", "knexfile.cts", "knexfile.mts")


class KnexRunner:
    tool = "knex"

    def knexfile(self, project: Path, migrations_dir: str) -> Path:
        found = _node.nearest(project, migrations_dir, KNEXFILES)
        if found is None:
            raise FluxInputError(f"knex: no knexfile ({', '.join(KNEXFILES[:2])}, ...) in {migrations_dir} or a "
                                 "folder above it in the project; Flux runs knex with the project's knexfile, or "
                                 "give --database-url")
        return found

    def inputs(self, project: Path, migrations_dir: str) -> list[Path]:
        knexfile = _node.nearest(project, migrations_dir, KNEXFILES)
        root = knexfile.parent if knexfile else _node.package_root(project, project / migrations_dir)
        return _node.existing([*_node.migration_files(project, migrations_dir), knexfile, root / "package.json",
                               root / "tsconfig.json", _node.installed(root, "knex")])

    def run(self, job: ToolRun) -> list[str]:
        knexfile = self.knexfile(job.project, job.migrations_dir)
        files = _node.migration_files(job.project, job.migrations_dir)
        options = {"config": str(knexfile), "ts": _node.has_typescript(files)}
        return _node.run_node("knex", job, knexfile.parent, options, "knex")


RUNNER = KnexRunner()
