"""Where in a project Flux looks for what belongs to a folder of it: the folders from it up to the
project's own (a package.json, a formatter's config), the Node tool configured nearest to it, and
the project's Python interpreter."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Optional

_VENVS = (".venv/bin/python", "venv/bin/python", ".venv/Scripts/python.exe", "venv/Scripts/python.exe")


def folders_up(project: Path, folder) -> list[Path]:
    """`folder` (relative to the project, or absolute inside it) and each folder above it up to the
    project's own, nearest first; none when `folder` is not inside the project."""
    root = Path(project)
    here = root / folder
    return [d for d in [here, *here.parents] if d == root or root in d.parents]


def nearest_node_tool(project: Path, folder, configured: Callable[[Path], list[str]]) -> Optional[tuple[str, Path, Path]]:
    """The Node tool configured nearest to `folder` (from it up to the project) and installed: (its name,
    its binary in a node_modules/.bin on the way up, the folder configuring it). `configured(d)`: the
    names of the tools d's config files ask for, in preference order. None when none is configured,
    or the nearest configured is not installed (one further up is not what that folder uses)."""
    folders = folders_up(Path(project).resolve(), folder)
    bins = [d / "node_modules" / ".bin" for d in folders]
    for d in folders:
        names = configured(d)
        for name in names:
            exe = next((b / name for b in bins if os.access(b / name, os.X_OK)), None)
            if exe is not None:
                return name, exe, d
        if names:
            return None
    return None


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
