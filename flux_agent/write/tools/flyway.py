"""Flyway files: `<dir>/V<version>__<desc>.sql` per database step, its undo
`U<version>__<desc>.sql`, and for a step that must run outside a transaction
a sibling `V<version>__<desc>.sql.conf` with `executeInTransaction=false`.

Versions continue the folder: timestamp versions (14 digits) go on as
timestamps after the newest; numeric ones go on from the highest version by its last part
(`V3` -> `V4`, `V003` -> `V004`, hawkbit's `V1_20_4` -> `V1_20_5`: Flyway compares the parts as
numbers, and a new major version would be a release the project did not make). An empty folder
starts at `V1`. Flyway parses PostgreSQL itself (dollar quotes included), so
the SQL goes in as is; outside a transaction it runs each statement on its own, so a step's
guard goes first. Where the folder's migrations qualify names with placeholders (`${schema}.t`),
the written files do too (schema/flyway_config.templater). Where every migration of the
folder ends its name alike after a second `__` (hawkbit's `V1_20_4__..._key_value__POSTGRESQL.sql`:
Flyway there runs only files ending `POSTGRESQL.sql`, its sqlMigrationSuffixes), the written files
end so too.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from ...model.plan import CodeChange, Plan, Step
from ...schema.flyway_config import templater
from ...schema.migration_files import version_key
from .._layout import existing_versions, lay_out, next_versions, step_slug
from ._flyway_repeatables import repeatable_notes
from ..base import FileJob, Writer, clean_dir, db_steps, down_or_note, guarded_up_sql, laid_files, sql_header

# Versioned and baseline migrations and their whole version (file names, not SQL).
_VERSION = re.compile(r"[VB](\d+(?:[._]\d+)*)__.*\.sql$")


def next_flyway_versions(found: list[str], count: int, now: datetime) -> list[str]:
    """`count` versions after every one `found` (V-file versions: `3`, `1_20_4`, `1.2`): timestamps
    after timestamps, else the highest with its last part counted on, at its zero-padding."""
    majors = [re.split(r"[._]", v)[0] for v in found]
    if not found or any(len(m) == 14 for m in majors):
        return next_versions(majors, count, now, width=0)
    top = max(found, key=version_key)
    cut = max(top.rfind("."), top.rfind("_")) + 1  # after the last separator (0: there is none)
    lead, last = top[:cut], top[cut:]
    width = len(last) if len(last) > 1 and last.startswith("0") else 0
    return [f"{lead}{int(last) + i:0{width}d}" for i in range(1, count + 1)]


def _common_tail(folder: Path) -> str:
    """How the folder's V- and B-files all end their names after the description (`__POSTGRESQL.sql`:
    the suffix a per-database folder's Flyway is told to run), or `.sql` where they do not agree."""
    names = [p.name for p in folder.glob("[VB]*__*.sql") if _VERSION.match(p.name)]
    tails = {name.rsplit("__", 1)[1] if name.count("__") >= 2 else None for name in names}
    if len(names) >= 2 and len(tails) == 1 and None not in tails:
        return "__" + tails.pop()
    return ".sql"


class FlywayWriter(Writer):
    tool = "flyway"
    default_dir = "db/migration"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        found = existing_versions(Path(project_dir) / folder, _VERSION)
        versions = next_flyway_versions(found, len(db_steps(plan)), now)

        tail = _common_tail(Path(project_dir) / folder)

        def files(step: Step, i: int) -> list[str]:
            up = folder / f"V{versions[i]}__{step_slug(step)}{tail}"
            conf = [] if step.transactional else [f"{up.as_posix()}.conf"]
            return [up.as_posix(), (folder / f"U{versions[i]}__{step_slug(step)}{tail}").as_posix(), *conf]

        return lay_out(plan, files)

    def render_up(self, step: Step) -> str:
        return sql_header(step) + guarded_up_sql(step) + "\n"

    def render_undo(self, step: Step) -> str:
        return sql_header(step) + down_or_note(step) + "\n"

    def code_changes(self, plan: Plan, project_dir: Path) -> list[CodeChange]:
        files = [f for s in db_steps(plan) for f in laid_files(s, None)]
        return repeatable_notes(plan, Path(project_dir), Path(files[0]).parent.as_posix()) if files else []

    def render_conf(self, step: Step) -> str:
        return "executeInTransaction=false\n"

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out = []
        template = None
        for step in db_steps(plan):
            files = laid_files(step, 2 if step.transactional else 3, "its V/U files",
                               lambda f: Path(f[0]).name.startswith("V"))
            # Names the folder's migrations qualify with placeholders (${schema}.t) are written so too.
            template = template or templater(str((Path(project_dir) / files[0]).parent))
            out.append(FileJob(files[0], template(self.render_up(step))))
            out.append(FileJob(files[1], template(self.render_undo(step))))
            if not step.transactional:
                out.append(FileJob(files[2], self.render_conf(step)))
        return out


WRITER = FlywayWriter()
