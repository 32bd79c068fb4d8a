"""A TypeORM migrations folder whose index file lists its migrations (Flowise's postgres/index.ts:
`import { Init1693891895163 } from './1693891895163-Init'` for each, and an array of the classes the
DataSource runs): the new migrations registered there as the folder's own are, an import each and
their classes at the end of the array. A migration left out of it would never run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from ..base import FileJob

_INDEX_NAMES = ("index.ts", "index.js", "index.mts", "index.mjs")
# An ES import of one class from a file beside the index: the shape of the lines this module copies.
_IMPORT = re.compile(r"^import\s*\{\s*(\w+)\s*\}\s*from\s*(['\"])\./([^'\"]+)\2(;?)[ \t]*$", re.M)
_CLASS = re.compile(r"^export class (\w+)", re.M)


def registered(project: Path, folder: str, added: list[FileJob]) -> Optional[FileJob]:
    """The folder's index file with the migrations `added` (their files' jobs) registered; None where
    the folder has no index file that imports its migrations one by one and lists them in an array."""
    here = project / folder
    index = next((here / n for n in _INDEX_NAMES if (here / n).is_file()), None)
    if index is None or not added:
        return None
    text = index.read_text(encoding="utf-8")
    stems = {p.name.split(".")[0] for p in here.iterdir() if p.is_file()}
    imports = [m for m in _IMPORT.finditer(text) if m.group(3).split("/")[-1].split(".")[0] in stems]
    span = _array_of(text, {m.group(1) for m in imports})
    if not imports or span is None:
        return None
    last, (start, end) = imports[-1], span
    quote, semi = last.group(2), last.group(4)
    new = [(c.group(1), Path(job.rel).name.rsplit(".", 1)[0]) for job in added if (c := _CLASS.search(job.content))]
    lines = "".join(f"\nimport {{ {cls} }} from {quote}./{stem}{quote}{semi}" for cls, stem in new)
    body = text[start + 1:end]
    kept = body.rstrip()  # the items, up to the last one (and its comma, where the array ends so)
    comma = kept.endswith(",")
    if not kept.strip():
        items = ", ".join(cls for cls, _ in new)
    elif "\n" in kept:  # one class a line, at the last one's indent
        indent = re.search(r"\n([ \t]*)\S[^\n]*$", kept).group(1)
        items = "".join(f"\n{indent}{cls}," if comma else f",\n{indent}{cls}" for cls, _ in new)
    else:
        items = "".join(f" {cls}," if comma else f", {cls}" for cls, _ in new)
    body = kept + items + body[len(kept):]
    out = text[:last.end()] + lines + text[last.end():start + 1] + body + text[end:]
    return FileJob(index.relative_to(project).as_posix(), out, replace=True)


def _array_of(text: str, names: set[str]) -> Optional[tuple[int, int]]:
    """The (`[`, `]`) places of the array literal naming the most of `names` (one at least)."""
    best, found, opened = 0, None, []
    for i, ch in enumerate(text):
        if ch == "[":
            opened.append(i)
        elif ch == "]" and opened:
            start = opened.pop()
            count = len(names & set(re.findall(r"\w+", text[start + 1:i])))
            if count > best:
                best, found = count, (start, i)
    return found
