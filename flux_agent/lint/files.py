"""Which files of the paths given to `flux validate` are migration files: a folder's SQL files
(down files aside: `.down.sql`, Flyway's U-files, `down.sql`; and those beside the migrations of a
tool that runs program code only), its program-code files named as migrations are (a number or
timestamp first), and the others a reader claims (lint/readers, loaded only when a folder holds a
file that is not SQL)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ..errors import FluxInputError
from ..model.terms import CODE_ONLY_TOOLS
from ..schema.migration_files import is_down_name, sqitch_place


def expand_paths(paths: Iterable[str], tool: Optional[str] = None) -> list[Path]:
    """The migration files of `paths`: a folder gives its SQL files and the program-code
    migrations a reader claims (lint/readers)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            if _SKIP.isdisjoint(path.parts):
                # Sorted as Paths sort (part by part), on the strings: 2,000 Paths sort in ~5 ms.
                found = sorted((x for x in _files_under(p) if _is_migration(x, tool)), key=_parts)
                if tool == "sqitch" and (os.path.isfile(os.path.join(p, "sqitch.plan")) or sqitch_place(p)):
                    found = [x for x in found if _deploy_script(x)]
                out.extend(map(Path, _without_sidecars(found, tool)))
        elif path.is_file():
            out.append(path)
        else:
            raise FluxInputError(f"no such file or folder: {p}")
    return out




def _deploy_script(path: str) -> bool:
    """Is it a sqitch deploy script (the project's migrations; its test, query or benchmark SQL is not)?"""
    place = sqitch_place(os.path.dirname(path))
    return place is not None and place[1] == "deploy"


def _without_sidecars(found: list[str], tool: Optional[str]) -> list[str]:
    # An SQL file beside a code-only tool's migrations is judged in what the migration sends, not alone
    # (alone it was judged without the tables the history made before it).
    if tool not in CODE_ONLY_TOOLS:
        return found
    with_code = {os.path.dirname(x) for x in found if x.lower().endswith(CODE_SUFFIXES)}
    return [x for x in found if not (x.lower().endswith(".sql") and os.path.dirname(x) in with_code)]


_SKIP = frozenset(("node_modules", "__pycache__", ".git"))
# Not entered below a folder given either: the project's virtualenv holds installed packages' migrations
# (healthchecks' `flux validate .` judged Django's own in .venv: 57 findings, not-analysed on its loader).
_SKIP_BELOW = _SKIP | {".venv", "venv", "site-packages", ".tox"}


def _files_under(folder: str) -> Iterator[str]:
    """The files under `folder` (symlinks to files too; symlinked folders and _SKIP_BELOW not entered),
    as paths joined to it: os.scandir, as a folder of 2,000 migrations is listed in ~5 ms where
    Path.rglob takes ~30."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in _SKIP_BELOW:
                yield from _files_under(entry.path)
        elif entry.is_file():
            yield entry.path


def _parts(path: str) -> list[str]:
    return path.split(os.sep)


# The endings of program-code migrations (Python, Ruby, JavaScript and TypeScript): the readers
# read no others (their loader refuses a reader that says otherwise), so a folder's other files (a
# Prisma folder's migration_lock.toml, a README) are passed over without loading them (~20 ms).
CODE_SUFFIXES = (".py", ".rb", ".js", ".ts", ".cjs", ".mjs", ".cts", ".mts")


def _is_migration(path: str, tool: Optional[str]) -> bool:
    name = os.path.basename(path)
    lower = name.lower()
    if lower.endswith(".sql"):
        return not is_down_name(name)
    if lower.endswith(".go"):  # goose's Go migrations (<version>_<name>.go): listed, to be said not analysed
        return name[:1].isdigit() and not lower.endswith("_test.go")
    if not lower.endswith(CODE_SUFFIXES):
        return False
    if name[:1].isdigit():
        # Named as migrations are (a number or timestamp first): listed even where no reader claims it,
        # so it is a not-analysed finding, never passed over (kutt's `async function up(knex)` files,
        # before the knex reader knew that form, went unread and unsaid while the rest passed).
        return True
    from .readers import claimed

    return claimed(Path(path), tool)
