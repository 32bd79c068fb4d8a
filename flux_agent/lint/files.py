"""Which files of the paths given to `flux validate` are migration files: a folder's SQL files
(down files aside) and the program-code migrations a reader claims (lint/readers, loaded only
when a folder holds a file that is not SQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

from ..errors import FluxInputError


def expand_paths(paths: Iterable[str], tool: Optional[str] = None) -> list[Path]:
    """The migration files of `paths`: a folder gives its SQL files and the program-code
    migrations a reader claims (lint/readers)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(x for x in path.rglob("*") if x.is_file() and _is_migration(x, tool)))
        elif path.is_file():
            out.append(path)
        else:
            raise FluxInputError(f"no such file or folder: {p}")
    return out


def _is_migration(path: Path, tool: Optional[str]) -> bool:
    if any(part in ("node_modules", "__pycache__", ".git") for part in path.parts):
        return False
    if path.name.lower().endswith(".sql"):
        return not path.name.endswith(".down.sql")
    from .readers import claimed

    return claimed(path, tool)
