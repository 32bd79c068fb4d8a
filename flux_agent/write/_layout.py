"""Where a plan's database steps go: file names that continue the folder (stamps,
versions) and the copy of the plan whose steps carry them.

Every writer's layout() is lay_out() with the tool's own naming; code steps get
no files. Names are only read from the folder (never file contents), so a
folder another flux run wrote to since the plan was made is followed.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from ..model.plan import Plan, Step
from .base import clean_dir, slug

_STAMP = re.compile(r"(\d{14})(?!\d)")  # file-name stamps, not SQL
_VERSION = re.compile(r"(\d+)_.*\.(?:up|down)\.sql$")  # golang-migrate's file names, not SQL


def lay_out(plan: Plan, files_of: Callable[[Step, int], list[str]]) -> Plan:
    """A copy of `plan` whose database steps get `files_of(step, i)` (i counts database
    steps from 0, called in order, so a namer may keep state); code steps get none."""
    out = plan.model_copy(deep=True)
    i = 0
    for step in out.steps:
        step.files = []
        if step.is_code:
            continue
        step.files = files_of(step, i)
        i += 1
    return out


def step_slug(step: Step) -> str:
    """The step's title as a file-name slug (`step_N` when nothing of it is left)."""
    return slug(step.title, f"step_{step.number}")


def utc(now: datetime) -> datetime:
    return now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)


def after_stamp(top: str) -> datetime:
    """The first second that sorts after the 14-digit stamp `top`."""
    try:
        return datetime.strptime(top, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc) + timedelta(seconds=1)
    except ValueError:
        # Not a real date (month 13, say) but it still sorts by its digits:
        # the next year's first second sorts after it.
        return datetime(int(top[:4]) + 1, 1, 1, tzinfo=timezone.utc)


def first_stamp(folder: Path, now: datetime) -> datetime:
    """A stamp (to the second) after every stamp starting a name in `folder`, and not before `now`."""
    stamp = utc(now).replace(microsecond=0)
    stamps = [m.group(1) for name in os.listdir(folder) if (m := _STAMP.match(name))] if folder.is_dir() else []
    floor = after_stamp(max(stamps)) if stamps else None
    return floor if floor is not None and floor > stamp else stamp


def stamped_layout(plan: Plan, project_dir: Path, migrations_dir: str, now: datetime,
                   sep: str = "_", ext: str = ".sql") -> Plan:
    """A copy of `plan` whose database steps each get `<dir>/YYYYMMDDHHMMSS<sep><slug><ext>`,
    stamps one second apart and after every stamp already in the folder."""
    folder = clean_dir(migrations_dir)
    stamp = first_stamp(Path(project_dir) / folder, now)
    return lay_out(plan, lambda step, i: [
        (folder / f"{stamp + timedelta(seconds=i):%Y%m%d%H%M%S}{sep}{step_slug(step)}{ext}").as_posix()])


def existing_versions(folder: Path, pattern: re.Pattern = _VERSION) -> list[str]:
    """The version digits of the file names in `folder` that `pattern` matches."""
    if not folder.is_dir():
        return []
    return [m.group(1) for name in os.listdir(folder) if (m := pattern.match(name))]


def next_versions(existing: list[str], count: int, now: datetime, *, width: int = 6, stamps: bool = False) -> list[str]:
    """`count` version strings after every one in `existing` (digit strings).

    Any 14-digit version means the folder uses timestamps: continue after the
    newest, never before `now`. Otherwise integers from the highest + 1,
    zero-padded to the folder's width when the folder pads. An empty folder
    gets timestamps when `stamps`, else integers padded to `width`."""
    tops = [v for v in existing if len(v) == 14]
    if tops or (stamps and not existing):
        start = utc(now).replace(microsecond=0)
        if tops:
            start = max(start, after_stamp(max(tops)))
        return [f"{start + timedelta(seconds=i):%Y%m%d%H%M%S}" for i in range(count)]
    if existing:
        padded = [v for v in existing if len(v) > 1 and v.startswith("0")]
        width = max(len(v) for v in padded) if padded else 0
    top = max((int(v) for v in existing), default=0)
    return [f"{top + i:0{width}d}" for i in range(1, count + 1)]
