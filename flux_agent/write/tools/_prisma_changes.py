"""The code change of a Prisma plan: the schema files edited (_prisma_edits.py; _prisma_window.py
for the code deploy's window) to describe the database, names pinned to the database's, applied by
`--write`; and the window's end, written with the contract's steps."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ...errors import FluxError, FluxInputError
from ...model.plan import CodeChange, Plan
from ...model.schema import Schema
from ...pg.quote import canonical_table
from ...schema.normal import normalise_schema
from ...schema.readers._prisma_map import build_schema
from ...schema.readers._prisma_parse import parse_prisma
from ...schema.replay.steps import schemas_before_each
from ..code_changes import cannot, patch_for
from ._prisma_edits import edit, schema_files
from ._prisma_schema import Cannot, Doc, pin_to_database
from ._prisma_window import close_window, edit_window

__all__ = ["schema_changes", "window_closed"]


def _describe(op) -> str:
    return op.op.replace("_", " ") + " " + (getattr(op, "table", None) or getattr(op, "name", None)
                                            or getattr(op, "enum", None) or "")


def _after(plan: Plan, texts: dict, upto: int | None = None) -> Schema | None:
    """The database after the plan (after its steps before `upto`): its SQL replayed on the schema
    the Prisma files describe."""
    try:
        before = normalise_schema(build_schema([b for f, t in texts.items() for b in parse_prisma(t, str(f))]),
                                  in_place=True)
        return schemas_before_each([s.up_sql for s in plan.steps if not s.is_code
                                    and (upto is None or s.number < upto)], before)[-1]
    except FluxError:
        return None


def schema_changes(plan: Plan, project_dir: Path, prisma_dir: PurePosixPath) -> list[CodeChange]:
    """Edits of the schema files making them describe the database after every operation of the plan."""
    files = schema_files(project_dir, prisma_dir)
    if not files:
        return [cannot((prisma_dir / "schema.prisma").as_posix(),
                       "no schema.prisma beside the migrations folder: update the Prisma schema by hand")]
    texts = {f: (Path(project_dir) / f).read_text(encoding="utf-8") for f in files}
    try:
        docs = {f: Doc(t) for f, t in texts.items()}
    except FluxInputError as exc:
        return [cannot(files[0].as_posix(), f"cannot read the Prisma schema ({exc}): update it by hand")]
    main = next((f for f in files if any(b.kind == "datasource" for b in docs[f].blocks)), files[0])
    notes, done = [], {f: [] for f in files}
    code = next((s.number for s in plan.steps if s.is_code), None)
    window = code is not None and any(s.number > code and not s.is_code for s in plan.steps)
    windowed: set = set()  # files describing the database until the contract (_prisma_window.py)
    until_contract = _after(plan, texts, code) if window else None
    late = _when_not_null(plan, texts)
    for op in (op for op in plan.operations if id(op) not in late):
        # The file holding the op's model first, then the main one (a new model goes there).
        order = [main] + [f for f in files if f != main]
        first: Cannot | None = None
        for f in order:
            trial = Doc(docs[f].text)
            try:
                if window and edit_window(trial, op, until_contract):
                    windowed.add(f)
                else:
                    edit(trial, op)
            except Cannot as exc:
                first = first or exc
                if not str(exc).startswith("no model"):
                    break
                continue
            docs[f] = trial
            done[f].append(_describe(op))
            first = None
            break
        if first is not None:
            notes.append(f"{_describe(op)}: {first}")
    after = _after(plan, texts)
    out = []
    for f in files:
        db = until_contract if f in windowed else after
        if docs[f].text != texts[f] and db is not None:
            try:
                pin_to_database(docs[f], db)
            except (Cannot, FluxError):
                pass  # names as Prisma's defaults; the edit itself stands
        if docs[f].text != texts[f]:
            out.append(CodeChange(path=f.as_posix(), patch=patch_for(project_dir, f.as_posix(), docs[f].text),
                                  why="schema.prisma describes the database after the plan: "
                                      + "; ".join(done[f]) + " (run `npx prisma generate` for the client)"
                                      + ("; what the contract drops stays, @ignore'd, until `flux continue` "
                                         "writes the drop, so a `prisma migrate dev` meanwhile writes no DROP "
                                         "of its own" if f in windowed else ""),
                                  applied_on_write=True))
    out += _required_later(plan, project_dir, docs, texts, late, main)
    out += [cannot(main.as_posix(), f"not changed in schema.prisma, do it by hand: {n}") for n in notes]
    return out


def _when_not_null(plan: Plan, texts: dict) -> dict[int, int]:
    """{id of a set_not_null operation: the step after which its column is NOT NULL in the database}.
    Its field is made required with the write of that step, not before: Prisma's client fails reading a
    row whose required field is NULL (P2032), and the NULLs are backfilled after the first write."""
    out = {}
    for op in (op for op in plan.operations if op.op == "set_not_null"):
        for step in (s for s in plan.steps if not s.is_code):
            db = _after(plan, texts, step.number + 1)
            table = db.table(canonical_table(op.table)) if db is not None else None
            col = table.column(op.column) if table is not None else None
            if col is not None and not col.nullable:
                out[id(op)] = step.number
                break
    return out


def _required_later(plan: Plan, project_dir: Path, docs: dict, texts: dict, late: dict[int, int],
                    main: PurePosixPath) -> list[CodeChange]:
    """The set_not_null edits held back (_when_not_null), each applied by the write of its step, on the
    text the edits before it leave."""
    out = []
    for op in sorted((op for op in plan.operations if id(op) in late), key=lambda o: late[id(o)]):
        for f, doc in docs.items():
            trial = Doc(doc.text)
            try:
                edit(trial, op)
            except Cannot:
                continue
            out.append(CodeChange(path=f.as_posix(), why=f"schema.prisma: {op.table}.{op.column} required once the "
                                  f"database holds no NULL in it (applied with step {late[id(op)]}'s write; "
                                  "run `npx prisma generate` then)", applied_at_step=late[id(op)],
                                  patch=patch_for(project_dir, f.as_posix(), trial.text, before=doc.text)))
            docs[f] = trial
            break
        else:
            out.append(cannot(main.as_posix(), f"not changed in schema.prisma, do it by hand once the column is "
                                               f"NOT NULL: {_describe(op)}"))
    return out


def window_closed(plan: Plan, project_dir: Path, prisma_dir: PurePosixPath) -> dict[str, str]:
    """{schema file: its text} for the files whose window edits (edit_window) the contract steps
    written now (`plan`'s) end: written with them, so the schema follows the database (a drop's
    column set aside and not dropped yet stays, mapped to its set-aside name)."""
    try:
        texts = {f: (Path(project_dir) / f).read_text(encoding="utf-8") for f in schema_files(project_dir, prisma_dir)}
    except OSError:
        return {}
    after = _after(plan, texts)  # the database once these steps ran
    out = {}
    for f, text in texts.items():
        try:
            doc = Doc(text)
        except FluxInputError:
            continue
        if [op for op in plan.operations if close_window(doc, op, after)]:
            if after is not None:
                try:
                    pin_to_database(doc, after)  # a set-aside column's index keeps its name
                except (Cannot, FluxError):
                    pass
            out[f.as_posix()] = doc.text
    return out
