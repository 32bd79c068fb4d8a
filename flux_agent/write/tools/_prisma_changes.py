"""The code change of a Prisma plan: the schema files edited (_prisma_edits.py; _prisma_window.py
for the code deploy's window) to describe the database, names pinned to the database's, applied by
`--write`; and the window's end, written with the contract's steps."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ...errors import FluxError, FluxInputError
from ...model.plan import CodeChange, Plan
from ...model.schema import Schema
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
    for op in plan.operations:
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
    out += [cannot(main.as_posix(), f"not changed in schema.prisma, do it by hand: {n}") for n in notes]
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
