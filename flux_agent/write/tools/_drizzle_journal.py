"""The drizzle migrations folder as Flux lays a plan out in it: the journal (meta/_journal.json),
each step's file (a journal entry, or a by-hand file sorted between two entries), and the
step's title without its by-hand prefix."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path, PurePosixPath

from ...errors import FluxInputError
from ...model.plan import Plan, Step
from .._layout import lay_out
from ..base import clean_dir, down_sql, laid_files, one_line, slug

__all__ = ["JOURNAL", "MANUAL_PREFIX", "is_manual", "layout", "next_idx", "read_journal", "step_file", "step_stem",
           "step_title"]

JOURNAL = "meta/_journal.json"
MANUAL_PREFIX = "by hand with psql, outside drizzle: "
_MANUAL = re.compile(r"^(\d{4})-(\d{2})_manual_")


def read_journal(out: Path) -> dict:
    path = out / JOURNAL
    if not path.is_file():
        return {"version": "7", "dialect": "postgresql", "entries": []}
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FluxInputError(f"cannot read drizzle journal {path}: {exc}") from None
    if not isinstance(journal, dict) or not isinstance(journal.get("entries"), list):
        raise FluxInputError(f"drizzle journal {path} has no entries list")
    return journal


def next_idx(journal: dict) -> int:
    entries = journal["entries"]
    return int(entries[-1]["idx"]) + 1 if entries else 0


def _manual_taken(out: Path) -> dict[int, int]:
    """journal index -> highest KK of the manual files already sorted before it."""
    taken: dict[int, int] = {}
    if out.is_dir():
        for name in (p.name for p in out.iterdir()):
            if m := _MANUAL.match(name):
                taken[int(m.group(1))] = max(taken.get(int(m.group(1)), 0), int(m.group(2)))
    return taken


def is_manual(step: Step) -> bool:
    return not step.transactional


def layout(plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
    folder = clean_dir(migrations_dir)
    out_dir = Path(project_dir) / folder
    idx = next_idx(read_journal(out_dir))
    taken = _manual_taken(out_dir)

    def files(step: Step, i: int) -> list[str]:
        nonlocal idx
        name = slug(step_title(step), f"step_{step.number}")
        if is_manual(step):
            taken[idx] = taken.get(idx, 0) + 1
            base = f"{idx:04d}-{taken[idx]:02d}_manual_{name}"
            step.title = MANUAL_PREFIX + step.title.removeprefix(MANUAL_PREFIX)  # laid out again by `flux continue`
        else:
            base = f"{idx:04d}_{name}"
            idx += 1
        down = [(folder / f"{base}.down.sql").as_posix()]
        # A journal entry's down file also forgets its row, so it has one even with nothing to undo.
        return [(folder / f"{base}.sql").as_posix()] + (down if down_sql(step) or not is_manual(step) else [])

    return lay_out(plan, files)


def step_file(step: Step) -> PurePosixPath:
    return PurePosixPath(laid_files(step, None, "a drizzle .sql file", lambda f: f[0].endswith(".sql"))[0])


def step_stem(step: Step) -> str:
    return step_file(step).name[: -len(".sql")]


def step_title(step: Step) -> str:
    return one_line(step.title.removeprefix(MANUAL_PREFIX))
