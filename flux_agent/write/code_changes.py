"""Code changes as unified diffs: the text of a model file before and after an edit, made
into the patch a plan carries (`patch -p1` applies it from the project folder)."""

from __future__ import annotations

import difflib
from pathlib import Path

from ..model.plan import CodeChange, Plan


def diff(rel: str, before: str, after: str) -> str:
    """A unified diff of `rel` (posix path relative to the project), git-style a/ b/ prefixes."""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{rel}", tofile=f"b/{rel}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def created(rel: str, text: str) -> str:
    """The patch creating file `rel` with `text` (`--- /dev/null`, as git and `patch -p1` take a new file)."""
    lines = diff(rel, "", text).splitlines(keepends=True)
    return f"--- /dev/null\n+++ b/{rel}\n" + "".join(lines[2:])


def read(path: Path) -> str:
    """A project file's text as it is on disk, its line endings kept: what a patch applies to. (The
    edits read and make text with "\n" alone; babybuddy keeps its models with CRLF.)"""
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def lf(text: str) -> str:
    """`text` with "\n" line endings, as the edits read and make it."""
    return text.replace("\r\n", "\n")


def patch_for(project: Path, rel: str, after: str, before: str | None = None) -> str:
    """The patch turning the file as it is now (or as `before` has it: an edit applied first) into
    `after`, both made with "\n" line endings, in the file's own line endings: a CRLF file's patch
    changes only the lines it edits, and applies."""
    disk = read(Path(project) / rel)
    crlf = "\r\n" in disk
    if before is None:
        before = disk
    elif crlf:
        before = lf(before).replace("\n", "\r\n")
    if crlf:
        after = lf(after).replace("\n", "\r\n")
    return diff(rel, before, after)


def change(project: Path, rel: str, after: str, why: str, applied_on_write: bool = False,
           applied_when_written: bool = False, before: str | None = None,
           applied_at_step: int | None = None) -> CodeChange:
    """The CodeChange turning the file as it is now (or as `before` has it) into `after`."""
    return CodeChange(path=rel, patch=patch_for(project, rel, after, before), why=why,
                      applied_on_write=applied_on_write, applied_when_written=applied_when_written,
                      applied_at_step=applied_at_step)


def goes_out(plan: Plan) -> str:
    """When a model change goes out: with the plan's code step, or with the migration in a plan that has
    none (redash's one-step index said "deploy it with the code step" where the checklist said there was none)."""
    return "with the code step" if any(s.is_code for s in plan.steps) else "with the migration"


def cannot(rel: str, why: str) -> CodeChange:
    """A change Flux could not make (no file, or one it cannot read): the note says what to do."""
    return CodeChange(path=rel, patch="", why=why)


def other_databases(rel: str, found: list[str], files: str, branch: str) -> CodeChange:
    """The note where the project's migration `files` (revisions, migrations) branch on the database
    they run on (`branch`: on what): Flux's are PostgreSQL's alone, and fail on the others."""
    return cannot(rel, f"{len(found)} of the project's {files} branch on {branch} "
                       f"({found[0]}{' and more' if len(found) > 1 else ''}): it runs them on another "
                       f"database too, where Flux's {files} (PostgreSQL's SQL: lock_timeout, CONCURRENTLY) "
                       "fail; guard them as those do, or keep that database to PostgreSQL")


def apply(text: str, patch: str) -> str:
    """`text` with a patch made by diff() applied (its hunks, in order; refuses a mismatch)."""
    out, lines, i = [], text.splitlines(keepends=True), 0
    hunks = patch.split("\n@@ ")[1:]
    for hunk in hunks:
        header, _, body = hunk.partition("\n")
        start = int(header.split()[0].lstrip("-").split(",")[0]) - 1
        start = max(start, 0) if "," not in header.split()[0] or not header.split()[0].endswith(",0") else start + 1
        out += lines[i:start]
        i = start
        tag = ""
        for line in body.splitlines(keepends=True):
            if line.startswith("\\"):  # "No newline at end of file": of the line just before
                if tag in (" ", "+") and out and out[-1].endswith("\n"):
                    out[-1] = out[-1][:-1]
                continue
            tag, content = line[:1], line[1:]
            if tag in (" ", "-"):
                if i >= len(lines) or lines[i].rstrip("\n") != content.rstrip("\n"):
                    raise ValueError(f"patch does not apply at line {i + 1}")
                i += 1
                if tag == " ":
                    out.append(lines[i - 1])
            elif tag == "+":
                out.append(content)
    return "".join(out + lines[i:])
