"""Where in a project Flux looks for what belongs to a folder of it: the folders from it up to the
project's own (a package.json, a formatter's config), and the project's Python interpreter."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_VENVS = (".venv/bin/python", "venv/bin/python", ".venv/Scripts/python.exe", "venv/Scripts/python.exe")


def folders_up(project: Path, folder) -> list[Path]:
    """`folder` (relative to the project, or absolute inside it) and each folder above it up to the
    project's own, nearest first; none when `folder` is not inside the project."""
    root = Path(project)
    here = root / folder
    return [d for d in [here, *here.parents] if d == root or root in d.parents]


def project_python(*folders: Path) -> str:
    """The interpreter with the project's dependencies: a virtualenv in the first of `folders` that
    has one, else the one the user activated, else the one Flux runs on."""
    for folder in dict.fromkeys(folders):
        for rel in _VENVS:
            if (folder / rel).is_file():
                return str(folder / rel)
    active = os.environ.get("VIRTUAL_ENV")
    if active and (Path(active) / "bin" / "python").is_file():
        return str(Path(active) / "bin" / "python")
    return sys.executable
