"""The session's project: the folder a tool call may work in (CLAUDE_PROJECT_DIR when Claude
Code sets it, else the working directory), and the check that keeps every path inside it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ..errors import FluxInputError


def session_root() -> Path:
    """Claude Code starts the server in the folder it was started in, which may be a subfolder
    of the project; CLAUDE_PROJECT_DIR names the project itself."""
    return Path(os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd()).resolve()


def inside(root: Path, given: Optional[str], base: Optional[Path] = None, what: str = "project_dir") -> Path:
    """`given` (relative to `base`, default the root) resolved, refused unless it is the root or
    inside it: a tool call must not read /etc or scan an unrelated tree."""
    if given is None or given == "":
        return base or root
    path = ((base or root) / given).resolve()  # an absolute `given` stays as it is
    if path != root and root not in path.parents:
        raise FluxInputError(f"{what} {given[:200]!r} is outside this session's project {root}; "
                             f"give a path inside it{' or leave project_dir out' if what == 'project_dir' else ''}")
    return path
