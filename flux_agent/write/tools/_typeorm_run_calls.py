"""The project's own calls of TypeORM's runMigrations(), where a plan writes a migration that runs
outside a transaction (`transaction = false`): TypeORM refuses one in its default mode, "all"
(ForbiddenTransactionModeOverrideError), so an application that migrates itself at start (jellyseerr's
server/index.ts: `dbConnection.runMigrations()`) would fail on Flux's first such file. A call with no
arguments is given `{ transaction: 'each' }` when the files are written (as env.py is for Alembic);
one with options of its own is named, to set it there. Read by tokens, never run."""

from __future__ import annotations

import os
from pathlib import Path

from ...model.plan import CodeChange
from ...project.ts_tokens import TsError, match_close, tokenize_ts
from ..code_changes import cannot, change, read

_SKIP = {"node_modules", "dist", "build", "coverage", "migrations", "migration"}
_EXTS = (".ts", ".js", ".mts", ".cts", ".mjs", ".cjs")
_MAX_FILES = 5_000
_WHY = ("TypeORM runs pending migrations in one transaction unless told `each`, and refuses a migration with "
        "`transaction = false` then (ForbiddenTransactionModeOverrideError)")


def _callers(project: Path) -> list[str]:
    """Source files of the project (not its migrations, dependencies or builds) calling runMigrations(."""
    out, seen = [], 0
    for folder, subdirs, names in os.walk(project):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP and not d.startswith("."))
        for name in sorted(names):
            if not name.endswith(_EXTS) or name.endswith(".d.ts"):
                continue
            seen += 1
            if seen > _MAX_FILES:
                return out
            path = Path(folder) / name
            try:
                if "runMigrations(" in path.read_text(encoding="utf-8", errors="replace"):
                    out.append(path.relative_to(project).as_posix())
            except OSError:
                continue
    return out


def run_call_changes(project: Path) -> list[CodeChange]:
    """Each file whose runMigrations() calls run in TypeORM's default mode: an edit giving the bare ones
    `{ transaction: 'each' }` (applied when the files are written), and a note for one whose options
    Flux does not edit."""
    out: list[CodeChange] = []
    for rel in _callers(project):
        text = read(project / rel)
        try:
            toks = tokenize_ts(text)
        except TsError:
            continue
        edits, named = [], []
        for i, t in enumerate(toks[:-1]):
            if t.text != "runMigrations" or toks[i + 1].text != "(" or i == 0 or toks[i - 1].text != ".":
                continue
            close = match_close(toks, i + 1)
            inside = toks[i + 2: close]
            if not inside:
                edits.append((toks[i + 1].end, toks[close].start))
            elif not any(x.text == "transaction" for x in inside):
                named.append(text.count("\n", 0, t.start) + 1)
        if edits:
            quote = "'" if sum(x.text[:1] == "'" for x in toks if x.kind == "str") >= \
                sum(x.text[:1] == '"' for x in toks if x.kind == "str") else '"'
            after = text
            for start, end in reversed(edits):
                after = after[:start] + f"{{ transaction: {quote}each{quote} }}" + after[end:]
            out.append(change(project, rel, after, f"the application runs the migrations itself: {_WHY}",
                              applied_on_write=True))
        if named:
            out.append(cannot(rel, f"runMigrations(...) on line {', '.join(map(str, named))} runs in TypeORM's "
                                   f"default mode: {_WHY}; add transaction: 'each' to its options"))
    return out
