"""Which of the files Flux is about to write git ignores (`git check-ignore`, git's own answer),
so that no migration lands in a folder it would never be committed from (formbricks' prisma.config
names a folder its own script fills and git ignores)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Optional


def ignored(root: Path, rels: list[str]) -> Optional[tuple[str, str]]:
    """(the first of `rels` git ignores, the rule that does: "file:line:pattern"); None when none
    is, or `root` is in no repository, or git is not there to ask."""
    if not rels:
        return None
    try:
        done = subprocess.run(["git", "-C", str(root), "check-ignore", "--verbose", "--stdin", "-z"],
                              input="\0".join(rels).encode() + b"\0", capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:  # 1: none ignored; 128: not a repository
        return None
    fields = done.stdout.decode(errors="replace").split("\0")
    # -z --verbose: source, line, pattern, path for each ignored path
    if len(fields) < 4:
        return None
    source, line, pattern, path = fields[:4]
    return path, f"{source}:{line}:{pattern}"
