"""Where a plan's database steps go: file names that continue the folder (stamps,
versions) and the copy of the plan whose steps carry them.

Every writer's layout() is lay_out() with the tool's own naming; code steps get
no files. Names are only read from the folder (never file contents), so a
folder another flux run wrote to since the plan was made is followed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
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


# -- names that follow the folder's own files (the JS tools) ------------------------------------------

_PREFIXED = re.compile(r"(\d+)([-_])([^.]*)\.")  # `<digits><sep><name>.<ext>`: file names, not SQL


@dataclass(frozen=True)
class NameStyle:
    """How a folder names its migrations: the prefix (`stamp` YYYYMMDDHHMMSS, `ms` 13-digit
    milliseconds, `utc17` YYYYMMDDHHMMSSmmm, `seq` a counter of `width` digits), the separator after
    it, and the separator between the name's words (`_` snake_case, `-` kebab-case)."""

    prefix: str = "stamp"
    width: int = 0
    sep: str = "_"
    words: str = "_"


def name_style(folder: Path, exts: tuple[str, ...], default: NameStyle) -> NameStyle:
    """The style of the newest migration in `folder` (by name, with one of `exts`), else `default`."""
    names = sorted(n for n in os.listdir(folder) if n.endswith(exts) and _PREFIXED.match(n)) \
        if folder.is_dir() else []
    if not names:
        return default
    digits, sep, rest = _PREFIXED.match(names[-1]).groups()
    kind = {14: "stamp", 13: "ms", 17: "utc17"}.get(len(digits), "seq")
    width = len(digits) if kind == "seq" and digits.startswith("0") else 0
    words = "-" if "-" in rest and "_" not in rest else "_" if "_" in rest else default.words
    return NameStyle(kind, width, sep, words)


def _prefix_ms(prefix: str) -> int:
    """A prefix as milliseconds (a 17-digit one read as a UTC time), for ordering."""
    if len(prefix) == 17:
        try:
            when = datetime.strptime(prefix[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
            return int(when.timestamp() * 1000) + int(prefix[14:])
        except ValueError:
            pass
    return int(prefix)


def styled_prefixes(folder: Path, style: NameStyle, count: int, now: datetime) -> list[str]:
    """`count` prefixes in `style`, after every prefix of the same length already in the folder
    (a timestamp style never before `now`)."""
    taken = [m.group(1) for n in (os.listdir(folder) if folder.is_dir() else []) if (m := _PREFIXED.match(n))]
    if style.prefix == "stamp":
        start = first_stamp(folder, now)
        return [f"{start + timedelta(seconds=i):%Y%m%d%H%M%S}" for i in range(count)]
    if style.prefix == "seq":
        top = max((int(p) for p in taken if len(p) < 13), default=0)
        return [f"{top + i:0{style.width}d}" for i in range(1, count + 1)]
    now_ms = int(utc(now).timestamp() * 1000)
    start = max([now_ms] + [_prefix_ms(p) + 1 for p in taken if len(p) in (13, 17)])
    if style.prefix == "ms":
        return [str(start + i) for i in range(count)]
    out = []
    for i in range(count):
        when = datetime.fromtimestamp((start + i) // 1000, tz=timezone.utc)
        out.append(f"{when:%Y%m%d%H%M%S}{(start + i) % 1000:03d}")
    return out


def styled_layout(plan: Plan, project_dir: Path, migrations_dir: str, now: datetime, style: NameStyle,
                  ext: str | Callable[[Step], str]) -> Plan:
    """A copy of `plan` whose database steps each get `<dir>/<prefix><sep><name><ext>` in `style`
    (`ext`: one for every step, or each step's)."""
    folder = clean_dir(migrations_dir)
    count = sum(not s.is_code for s in plan.steps)
    prefixes = styled_prefixes(Path(project_dir) / folder, style, count, now)
    ext_of = ext if callable(ext) else (lambda step: ext)
    return lay_out(plan, lambda step, i: [
        (folder / f"{prefixes[i]}{style.sep}{step_slug(step).replace('_', style.words)}{ext_of(step)}").as_posix()])
