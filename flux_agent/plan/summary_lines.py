"""The deployment summary's lines (plan/summary.py) as atoms that never break: a logical line is a
list of atoms shown joined by one space, wrapped only between atoms to a width, with a hanging
indent. A word, a file name and a `code span` (with what touches it) are atoms."""

from __future__ import annotations

import re
from typing import Optional

_ATOM = re.compile(r"\S*`[^`]*`\S*|\S+")
_SEPARATORS = ("—", "·", "│")


def words(text: str) -> list[str]:
    """The atoms of a text."""
    atoms: list[str] = []
    for atom in _ATOM.findall(text):
        if atom in _SEPARATORS and atoms:  # a separator stays on the line before it
            atoms[-1] += " " + atom
        else:
            atoms.append(" ".join(atom.split()))
    return atoms


def file_atoms(files: list[str]) -> list[str]:
    """File names as atoms, a comma after each but the last."""
    return [name + ("," if i < len(files) - 1 else "") for i, name in enumerate(files)]


def glue(sep: str, *parts: list[str]) -> list[str]:
    """Parts joined by a separator that stays on the line before it (no line starts with —)."""
    out: list[str] = []
    for part in parts:
        if not part:
            continue
        if out:
            out[-1] += f" {sep}"
        out.extend(part)
    return out


def wrap(atoms: list[str], width: Optional[int], indent: int = 0) -> list[str]:
    """One line (width None) or lines of at most `width` with a hanging indent; an
    atom too long for the width stands alone on its line, whole."""
    if width is None or not atoms:
        return [" ".join(atoms)]
    out, line = [], atoms[0]
    for atom in atoms[1:]:
        if len(line) + 1 + len(atom) <= width:
            line += " " + atom
        else:
            out.append(line)
            line = " " * indent + atom
    out.append(line)
    return out


def item(prefix: str, atoms: list[str], width: Optional[int]) -> list[str]:
    """A numbered or checkbox line: continuation lines hang under the text after `prefix`."""
    if not atoms:
        return [prefix.rstrip()]
    return wrap([prefix + atoms[0], *atoms[1:]], width, len(prefix))
