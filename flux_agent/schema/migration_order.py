"""Which files of a migrations folder run on the way up, in the order each tool runs them (what
each file's parts are: migration_files.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

from .drizzle_runs import BY_HAND, drizzle_listed
from .migration_files import FLYWAY_NAME, FLYWAY_REPEATABLE, ONE_MIGRATION_FILES, is_down_name, sqitch_folder, version_key

_LEADING_NUMBER = re.compile(r"(\d+)_")
# Tools that order a folder by the number before the first `_` (1, 2, ..., 10), not by name.
_BY_NUMBER = {"golang-migrate", "goose"}


def migration_files(folder: Path, tool: Optional[str] = None) -> list[Path]:
    """The files of a migrations folder that run on the way up, in the order `tool` runs
    them (name order for dbmate, plain sql, drizzle, prisma and an unknown tool)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    if tool == "flyway":
        return _flyway_files(folder)
    if tool == "sqitch":
        plan = folder / "sqitch.plan"
        names = sqitch_scripts(plan.read_text(encoding="utf-8")) if plan.is_file() else []
        return [p for name in names if (p := folder / "deploy" / f"{name}.sql").is_file()]
    found = []
    # os.scandir and names: a folder of 2,000 files is listed in a few ms, where Path.iterdir,
    # is_file and is_down_file on each take ~40.
    down_folder = sqitch_folder(folder, ("revert", "verify"))  # every file in it is a down file
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        name = entry.name
        if name.endswith(".sql") and entry.is_file():
            if not down_folder and not is_down_name(name):
                found.append(folder / name)
        elif entry.is_dir():
            own = next((f for f in ONE_MIGRATION_FILES if os.path.isfile(os.path.join(entry.path, f))), None)
            if own is not None:
                found.append(folder / name / own)
    if tool in _BY_NUMBER:
        found.sort(key=number_then_name)
    if tool == "drizzle":
        listed = drizzle_listed(folder)
        found = found if listed is None else [f for f in found if f.stem in listed or BY_HAND.match(f.name)]
    return found


def _flyway_files(folder: Path) -> list[Path]:
    """What Flyway runs on an empty database: the newest baseline (B-file) and the V-files above its
    version (all the V-files where there is none), in version order, then the repeatable R-files in
    the order of their descriptions."""
    kinds: dict[str, list] = {"V": [], "B": []}
    for p in folder.glob("[VB]*__*.sql"):
        if (m := FLYWAY_NAME.match(p.name)) and m.group(1) in kinds:
            kinds[m.group(1)].append((version_key(m.group(2)), p))
    versioned = sorted(kinds["V"])
    if kinds["B"]:
        base_version, base = max(kinds["B"])
        versioned = [(base_version, base)] + [(v, p) for v, p in versioned if v > base_version]
    repeatable = sorted((m.group(1), p) for p in folder.glob("R__*.sql") if (m := FLYWAY_REPEATABLE.match(p.name)))
    return [p for _, p in versioned] + [p for _, p in repeatable]


def goose_go_migrations(folder: Path) -> list[Path]:
    """goose's Go migrations in a folder (`<version>_<name>.go`, registered in the project's own
    binary), in goose's order: Flux cannot run them, only say where they stand."""
    try:
        with os.scandir(folder) as listing:
            names = [e.name for e in listing if e.is_file()]
    except OSError:
        return []
    found = [folder / n for n in names
             if n.endswith(".go") and not n.endswith("_test.go") and _LEADING_NUMBER.match(n)]
    return sorted(found, key=number_then_name)


# Flyway's Java (and Kotlin) migrations: classes named as its SQL files are, in the project's sources.
_FLYWAY_CODE = re.compile(r"(?:V(\d+(?:[._]\d+)*)|R)__\w+\.(?:java|kt)$")  # file names, not SQL
_NOT_SOURCES = frozenset({"node_modules", "build", "target", "out", "test"})


def flyway_code_migrations(project: Path) -> list[tuple[Optional[tuple[int, ...]], Path]]:
    """Flyway's Java and Kotlin migrations in the project's `src/main/java|kotlin` trees (a module's
    too), each with its version (None: repeatable): Flux cannot run them, only say where they stand
    (marquez's V56_1__FacetViews.java makes three views)."""
    roots = [r for lang in ("java", "kotlin") for r in (Path(project, "src", "main", lang),
                                                         *Path(project).glob(f"*/src/main/{lang}"))]
    found = []
    for root in roots:
        for here, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in _NOT_SOURCES and not d.startswith(".")]
            found += [(version_key(m.group(1)) if m.group(1) else None, Path(here, name))
                      for name in files if (m := _FLYWAY_CODE.match(name))]
    return sorted(found, key=lambda f: (f[0] is None, f[0] or (), f[1].name))


def number_then_name(path: Path) -> tuple[int, int, str]:
    """The order golang-migrate and goose run files in: by leading version number, then name."""
    m = _LEADING_NUMBER.match(path.name)
    return (0, int(m.group(1)), path.name) if m else (1, 0, path.name)


def same_version(files: list[Path], tool: Optional[str]) -> dict[Path, Path]:
    """Each file whose version an earlier file of `files` (a folder's, in its tool's order) has too,
    with that earlier file: golang-migrate and goose read a version as a number (`01_a` is `1_b`'s),
    Flyway as dotted numbers (`V1.1` is `V1_1`'s), and each refuses a folder holding one twice."""
    seen: dict[tuple, Path] = {}
    out = {}
    for f in files:
        if tool in _BY_NUMBER:
            m = _LEADING_NUMBER.match(f.name)
            version = (int(m.group(1)),) if m else None
        elif tool == "flyway":
            m = FLYWAY_NAME.match(f.name)
            version = version_key(m.group(2)) if m and m.group(1) == "V" else None
            while version and len(version) > 1 and version[-1] == 0:  # Flyway's 1.0 is its 1
                version = version[:-1]
        else:
            version = None
        if version is not None:
            if version in seen:
                out[f] = seen[version]
            else:
                seen[version] = f
    return out


def sqitch_scripts(plan_text: str) -> list[str]:
    """The deploy script of each change in a sqitch.plan, in order, as sqitch deploys them: a change
    reworked later (listed again) runs, where it is listed first, the copy `rework` kept of its
    script: `<name>@<tag>`, the tag the first one after it in the plan."""
    entries = []  # ("change", name) or ("tag", name)
    for line in plan_text.splitlines():
        text = line.strip()
        if text and text[0] == "@":
            entries.append(("tag", text.split()[0][1:]))
        elif text and text[0] not in "%#":
            entries.append(("change", text.split()[0].lstrip("+-")))
    out = []
    for k, (kind, name) in enumerate(entries):
        if kind != "change":
            continue
        later = entries[k + 1:]
        again = ("change", name) in later
        tag = next((n for e, n in later if e == "tag"), None) if again else None
        out.append(f"{name}@{tag}" if tag else name)
    return out


def sqitch_changes(plan_text: str) -> list[str]:
    """Change names in a sqitch.plan, in order (pragmas, tags, comments skipped)."""
    out = []
    for line in plan_text.splitlines():
        text = line.strip()
        if text and text[0] not in "%#@":
            out.append(text.split()[0].lstrip("+-"))
    return out
