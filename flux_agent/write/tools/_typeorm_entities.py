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
from ..code_changes import cannot, change, created, goes_out, lf, read
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


def _home(op, tables: dict[str, str], load) -> str | None:
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


class _Edits:
    """The entity files a plan's operations edit, each read once, and what is said of the rest."""

    def __init__(self, project: Path, tables: dict[str, str], unread: list[tuple[str, str]], snake: bool, when: str):
        self.project, self.tables, self.unread, self.naming = project, tables, unread, naming_for(snake)
        self.when = when  # with the code step, or with the migration (code_changes.goes_out)
        self.files: dict[str, EntityFile] = {}
        self.before: dict[str, str] = {}
        self.done: dict[str, list[str]] = {}
        self.notes: list[tuple[str, str]] = []  # an edit of an entity not made: said as such
        self.said: list[tuple[str, str]] = []  # what else the user does by hand: said as it is
        self.sources: set[str] = set()  # the DataSource files listing a new entity

    def load(self, rel: str) -> EntityFile:
        if rel not in self.files:
            self.before[rel] = lf(read(self.project / rel))
            self.files[rel] = EntityFile(self.before[rel], self.naming)
        return self.files[rel]

    def new_table(self, op, table: str, what: str) -> None:
        """A class of its own for a table the plan creates, registered where the DataSource lists classes."""
        known = sorted(set(self.tables.values())) or [self.unread[0][0]]
        try:
            rel = home(table, known)
            if (self.project / rel).exists():
                raise NotEditable(f"{rel} exists already")
            text = new_entity(op, self.load(known[0]))
            name = class_name(table, self.load(known[0]))
        except (NotEditable, TsError, FluxError) as exc:
            self.notes.append((Path(known[0]).parent.as_posix(), f"{what}: {exc}"))
            return
        self.before[rel], self.files[rel] = "", EntityFile(text, self.naming)
        self.tables[table] = rel
        self.done.setdefault(rel, []).append(what)
        try:
            listed = register(self.project, rel, name)
        except (NotEditable, TsError, OSError) as exc:
            self.said.append((rel, f"{what}: {exc}"))
            return
        if listed is not None:  # the DataSource lists its classes: the new one joins them
            source, source_text = listed
            self.load(source).text = source_text
            self.done.setdefault(source, []).append(f"the entity {name} registered")
            self.sources.add(source)

    def edit(self, op, table: str, what: str) -> None:
        """`op` made in the entity file of its table (or a note)."""
        rel = _home(op, self.tables, self.load)
        if rel is None and self.unread and op.op != "drop_index":
            names = ", ".join(n for _, n in self.unread[:3]) + (" and more" if len(self.unread) > 3 else "")
            self.said.append((self.unread[0][0], f"{what}: no entity names table {table}, and {names} name their "
                                                 f"tables with constants Flux does not read: if one maps {table}, "
                                                 "change it by hand"))
        if rel is None:
            return  # a table no entity maps: TypeORM does not look at it
        if op.op == "drop_table":
            self.said.append((rel, f"{what}: remove its entity class (and the relations naming it) with the code "
                                   "step; until then `typeorm migration:generate` proposes creating the table again"))
            return
        ef = self.load(rel)
        trial = EntityFile(ef.text, self.naming)
        try:
            apply(trial, op)
        except (NotEditable, TsError, FluxError) as exc:
            self.notes.append((rel, f"{what}: {exc}"))
            return
        ef.text = trial.text
        self.done.setdefault(rel, []).append(what)
        if op.op == "rename_table":
            self.tables[split_qualified(op.new_name)[1]] = rel

    def changes(self) -> list[CodeChange]:
        after = f"(apply {self.when}; then `typeorm migration:generate --check` finds nothing to do)"
        out = []
        for rel, ef in self.files.items():
            if ef.text == self.before[rel]:
                continue
            what = "; ".join(self.done[rel]) + f" {after}"
            if not self.before[rel] and not (self.project / rel).exists():
                out.append(CodeChange(path=rel, patch=created(rel, ef.text), why=f"a TypeORM entity for the new "
                                                                                  f"table: {what}"))
            else:
                out.append(change(self.project, rel, ef.text, ("the DataSource lists the new entities: "
                                                               if rel in self.sources else "the TypeORM entity "
                                                               "matches the database after the plan: ") + what))
        out += [cannot(rel, f"not changed in the entity, do it by hand {self.when}: {n}; {_AFTER}")
                for rel, n in self.notes]
        return out + [cannot(rel, n) for rel, n in self.said]


def entity_changes(plan: Plan, project: Path) -> list[CodeChange]:
    """The entity files edited to match the database after the plan, and notes for what is not."""
    ops = [op for op in plan.operations if op.op != "backfill"]
    if not ops:
        return []
    tables, snake, unread = entity_files(project)
    if not tables and not unread:
        return []
    edits = _Edits(project, tables, unread, snake, goes_out(plan))
    for op in ops:
        table = split_qualified(getattr(op, "table", None) or "")[1]
        (edits.new_table if op.op == "create_table" else edits.edit)(op, table, describe(op))
    return edits.changes()
