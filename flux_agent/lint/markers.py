"""The comments a migration file speaks to the validator in, each with its reason:
`-- flux-ignore rule[, rule]: reason` (or `-- reason`), squawk's `-- squawk-ignore rule[, rule] -- reason`,
and `-- flux-phase <phase>: reason`, which Flux writes into contract and backfill
files so that they are judged as the plan judged them. A program-code migration says the
same in its own comments (`# flux-ignore ...` in Python and Ruby, `// ...` in JavaScript and
TypeScript), each on a line of its own (source_markers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from ..model.terms import Phase
from ..pg.parse import scan_comments

PHASE_MARKER = "flux-phase"
PHASES = get_args(Phase)
_WORDS = ("flux-ignore", "squawk-ignore", PHASE_MARKER)


def phase_marker(phase: Phase, reason: str) -> str:
    """The comment that tells the validator which plan phase a migration file belongs to, with
    its reason: a contract file, run after its code deploy, may drop what the code stopped using."""
    return f"-- {PHASE_MARKER} {phase}: {reason}"


@dataclass
class Marker:
    """One ignore comment (its rules) or phase marker (its phase), where it stands and why."""

    line: int
    rules: set[str]
    reason: str


def markers(sql: str, line_offset: int) -> tuple[list[Marker], list[Marker]]:
    """(ignores, phase markers) in the SQL's comments (a phase marker's `rules` hold its phase)."""
    ignores, phases = [], []
    if not any(word in sql for word in _WORDS):
        return ignores, phases  # no marker's word in the text: no comment to scan for (most files)
    for start, body in scan_comments(sql):
        body = body.lstrip("-").strip()
        line = sql.count("\n", 0, start) + 1 + line_offset
        if body.startswith("flux-ignore"):
            # `rule: why`, or squawk's separator `rule -- why`, whichever comes first
            rest = body[len("flux-ignore"):]
            cuts = [(k, sep) for sep in (":", " -- ") if (k := rest.find(sep)) >= 0]
            names, _, reason = rest.partition(min(cuts)[1]) if cuts else (rest, "", "")
        elif body.startswith("squawk-ignore"):
            names, _, reason = body[len("squawk-ignore"):].partition(" -- ")
        elif body.startswith(PHASE_MARKER):
            names, _, reason = body[len(PHASE_MARKER):].partition(":")
            phases.append(Marker(line, set(names.split()), reason.strip()))
            continue
        else:
            continue
        rules = {n.strip() for n in names.replace(",", " ").split() if n.strip()}
        ignores.append(Marker(line, rules, reason.strip()))
    return ignores, phases


def comment_prefix(name: str) -> str:
    """How a migration file of this name starts a comment: `#` (Python, Ruby), `//` (JS, TS), `--` (SQL)."""
    lower = name.lower()
    if lower.endswith((".py", ".rb")):
        return "#"
    return "--" if lower.endswith(".sql") else "//"


def source_markers(text: str, name: str) -> list[Marker]:
    """The ignore comments of a program-code migration (`name`: its file name), each on a line of
    its own, read as the same comment in SQL would be: its line is the file's."""
    prefix = comment_prefix(name)
    if prefix == "--" or not any(word in text for word in _WORDS[:2]):
        return []
    lines = ["-- " + line.strip()[len(prefix):].strip() if line.strip().startswith(prefix) else ""
             for line in text.splitlines()]
    return markers("\n".join(lines), 0)[0]
