"""TypeORM's entity classes, for the note a plan carries where it changes their tables: Flux does not
edit them, and until they match the database `typeorm migration:generate` proposes undoing the plan."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ...model.plan import CodeChange, Plan
from ...pg.quote import split_qualified
from ..code_changes import cannot

_SKIP = {"node_modules", "dist", "build", "coverage"}
_LIMIT = 20_000  # files looked at, at most: a monorepo's sources, not its dependencies
# An entity decorator naming its table: TypeORM's @Entity("t") or @Entity({ name: "t" }), or a project's
# own wrapper of it (ever-gauzy's @MultiORMEntity("employee")).
_ENTITY = re.compile(r"@\w*Entity\(\s*(?:[\"'`]([\w.]+)[\"'`]|\{[^)]*?\bname\s*:\s*[\"'`]([\w.]+)[\"'`])")


def entity_files(project: Path) -> dict[str, str]:
    """table -> the file (relative to the project) whose entity decorator names it."""
    out: dict[str, str] = {}
    seen = 0
    for folder, subdirs, names in os.walk(project):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP and not d.startswith("."))
        for name in sorted(names):
            if not name.endswith((".ts", ".js")) or name.endswith(".d.ts"):
                continue
            seen += 1
            if seen > _LIMIT:
                return out
            path = Path(folder) / name
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if "Entity(" not in text:
                continue
            for m in _ENTITY.finditer(text):
                out.setdefault(m.group(1) or m.group(2), path.relative_to(project).as_posix())
    return out


def entity_notes(plan: Plan, project: Path) -> list[CodeChange]:
    """One note per entity file whose table the plan changes (a backfill changes rows only)."""
    tables: dict[str, list[str]] = {}
    for op in plan.operations:
        if op.op != "backfill" and getattr(op, "table", None):
            tables.setdefault(split_qualified(op.table)[1], []).append(op.op.replace("_", " "))
    if not tables:
        return []
    files = entity_files(project)
    notes: dict[str, list[str]] = {}
    for table, ops in tables.items():
        if table in files:
            notes.setdefault(files[table], []).append(f"{', '.join(ops)} on {table}")
    return [cannot(rel, f"update the TypeORM entity here with the code step ({'; '.join(what)}): Flux does not "
                        "edit entities, and until they match the database `typeorm migration:generate` proposes "
                        "undoing this plan")
            for rel, what in sorted(notes.items())]
