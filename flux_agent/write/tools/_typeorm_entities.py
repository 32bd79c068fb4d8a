"""The code change of a TypeORM plan: each entity class whose table the plan changes edited to
describe the database after it (write/tools/_typeorm_entity_edits.py), so that the project's
`typeorm migration:generate` finds nothing to undo; a note where an edit is not Flux's to make."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import FluxError
from ...model.plan import CodeChange, Plan
from ...pg.quote import split_qualified
from ...plan.planner import describe
from ...project.ts_tokens import TsError
from ..code_changes import cannot, change, created, lf, read
from ._typeorm_entity_edits import EntityFile, apply, index_decorators, naming_for
from ._typeorm_data_source import register
from ._typeorm_entity_new import class_name, home, new_entity
from ._typeorm_entity_ts import NotEditable, entity_classes

_SKIP = {"node_modules", "dist", "build", "coverage"}
_LIMIT = 20_000  # files looked at, at most: a monorepo's sources, not its dependencies
_AFTER = "until it matches the database, `typeorm migration:generate` proposes undoing this plan"


def entity_files(project: Path) -> tuple[dict[str, str], bool, list[tuple[str, str]]]:
    """(table -> the file, relative to the project, of the entity class mapping it; whether the
    project names its columns with a SnakeNamingStrategy; (file, class) of the entities naming their
    table with a constant, which Flux does not read)."""
    out: dict[str, str] = {}
    unread: list[tuple[str, str]] = []
    seen, snake = 0, False
    for folder, subdirs, names in os.walk(project):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP and not d.startswith("."))
        for name in sorted(names):
            if not name.endswith((".ts", ".js")) or name.endswith(".d.ts"):
                continue
            seen += 1
            if seen > _LIMIT:
                return out, snake, unread
            path = Path(folder) / name
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            snake = snake or "SnakeNamingStrategy" in text
            if "Entity(" not in text:
                continue
            try:
                classes = entity_classes(text)
            except TsError:
                continue
            rel = path.relative_to(project).as_posix()
            for cls in classes:
                if cls.table is None:
                    unread.append((rel, cls.name))
                else:
                    out.setdefault(cls.table, rel)
    return out, snake, unread


def _home(op, tables: dict[str, str], files: dict[str, EntityFile], load) -> str | None:
    """The entity file an operation edits: its table's (a dropped index's: the file declaring it)."""
    if op.op == "drop_index":
        name = split_qualified(op.name)[1]
        for rel in sorted(set(tables.values())):
            try:
                if any(named == name for named, _, _ in index_decorators(load(rel))):
                    return rel
            except TsError:
                continue
        return None
    return tables.get(split_qualified(getattr(op, "table", None) or "")[1])


def entity_changes(plan: Plan, project: Path) -> list[CodeChange]:
    """The entity files edited to match the database after the plan, and notes for what is not."""
    ops = [op for op in plan.operations if op.op != "backfill"]
    if not ops:
        return []
    tables, snake, unread = entity_files(project)
    if not tables and not unread:
        return []
    naming = naming_for(snake)
    files: dict[str, EntityFile] = {}
    before: dict[str, str] = {}

    def load(rel: str) -> EntityFile:
        if rel not in files:
            before[rel] = lf(read(project / rel))
            files[rel] = EntityFile(before[rel], naming)
        return files[rel]

    done: dict[str, list[str]] = {}
    notes: list[tuple[str, str]] = []  # an edit of an entity not made: said as such
    said: list[tuple[str, str]] = []  # what else the user does by hand: said as it is
    sources: set[str] = set()  # the DataSource files listing a new entity
    for op in ops:
        table = split_qualified(getattr(op, "table", None) or "")[1]
        what = describe(op)
        if op.op == "create_table":
            known = sorted(set(tables.values())) or [unread[0][0]]
            try:
                rel = home(table, known)
                if (project / rel).exists():
                    raise NotEditable(f"{rel} exists already")
                text = new_entity(op, load(known[0]))
            except (NotEditable, TsError, FluxError) as exc:
                notes.append((Path(known[0]).parent.as_posix(), f"{what}: {exc}"))
                continue
            before[rel], files[rel] = "", EntityFile(text, naming)
            tables[table] = rel
            done.setdefault(rel, []).append(what)
            try:
                listed = register(project, rel, class_name(table, load(known[0])))
            except (NotEditable, TsError, OSError) as exc:
                said.append((rel, f"{what}: {exc}"))
                continue
            if listed is not None:  # the DataSource lists its classes: the new one joins them
                source, source_text = listed
                load(source).text = source_text
                done.setdefault(source, []).append(f"the entity {class_name(table, load(known[0]))} registered")
                sources.add(source)
            continue
        rel = _home(op, tables, files, load)
        if rel is None and unread and op.op != "drop_index":
            names = ", ".join(name for _, name in unread[:3]) + (" and more" if len(unread) > 3 else "")
            said.append((unread[0][0], f"{what}: no entity names table {table}, and {names} name their tables with "
                                        f"constants Flux does not read: if one maps {table}, change it by hand"))
        if rel is None:
            continue  # a table no entity maps: TypeORM does not look at it
        if op.op == "drop_table":
            said.append((rel, f"{what}: remove its entity class (and the relations naming it) with the code step; "
                               "until then `typeorm migration:generate` proposes creating the table again"))
            continue
        ef = load(rel)
        trial = EntityFile(ef.text, naming)
        try:
            apply(trial, op)
        except (NotEditable, TsError, FluxError) as exc:
            notes.append((rel, f"{what}: {exc}"))
            continue
        ef.text = trial.text
        done.setdefault(rel, []).append(what)
        if op.op == "rename_table":
            tables[split_qualified(op.new_name)[1]] = rel
    after = "(apply with the code step; then `typeorm migration:generate --check` finds nothing to do)"
    out = [change(project, rel, ef.text, ("the DataSource lists the new entities: " if rel in sources else
                                          "the TypeORM entity matches the database after the plan: ")
                  + "; ".join(done[rel]) + f" {after}")
           if before[rel] or (project / rel).exists() else
           CodeChange(path=rel, patch=created(rel, ef.text), why="a TypeORM entity for the new table: "
                      + "; ".join(done[rel]) + f" {after}")
           for rel, ef in files.items() if ef.text != before[rel]]
    out += [cannot(rel, f"not changed in the entity, do it by hand with the code step: {n}; {_AFTER}")
            for rel, n in notes]
    out += [cannot(rel, n) for rel, n in said]
    return out
