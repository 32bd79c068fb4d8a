"""The project's files as detection sees them: listed once (shallow first, dependency and
build folders skipped, four levels down), read as text, never run; and the small readers of
configured paths every detector shares."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path, PurePosixPath
from typing import Optional

_SKIP = {"node_modules", ".git", ".venv", "venv", "dist", "build"}
_MAX_DEPTH = 4  # app folders one or two down, and resources/migrations/postgres below them
_MAX_FILES = 50_000  # stop walking a huge tree rather than hang
_MAX_SQL_READS = 2_000
HEAD = 8_192  # tool markers sit at the top of a file


class Scan:
    """The project's file list (relative posix paths), read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        files: list[PurePosixPath] = []
        dirs: set[PurePosixPath] = set()
        for here, dirnames, filenames in os.walk(root):
            rel = PurePosixPath(Path(here).relative_to(root).as_posix())
            depth = 0 if rel == PurePosixPath(".") else len(rel.parts)
            dirs.add(rel)
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP) if depth < _MAX_DEPTH else []
            files.extend(rel / f for f in sorted(filenames))
            if len(files) >= _MAX_FILES:
                break
        # Shallow first, then by name: the first match is the nearest, deterministically.
        self.files = sorted(files, key=lambda p: (len(p.parts), p.as_posix()))
        self.names = set(self.files)
        self.dirs = dirs
        self._heads: Optional[list[tuple[PurePosixPath, str]]] = None

    def named(self, *names: str) -> list[PurePosixPath]:
        return [f for f in self.files if f.name in names]

    def read(self, rel: PurePosixPath, limit: int = 65_536) -> str:
        try:
            with open(self.root / rel, encoding="utf-8", errors="replace") as fh:
                return fh.read(limit)
        except OSError:
            return ""

    def sql_heads(self) -> list[tuple[PurePosixPath, str]]:
        """(path, first characters) of .sql files, read once, capped so a big tree cannot stall detection."""
        if self._heads is None:
            sql = [f for f in self.files if f.suffix.lower() == ".sql"][:_MAX_SQL_READS]
            self._heads = [(f, self.read(f, HEAD)) for f in sql]
        return self._heads

    def dependencies(self) -> list[tuple[PurePosixPath, set[str]]]:
        out = []
        for f in self.named("package.json"):
            try:
                data = json.loads(self.read(f, 1_000_000))
            except ValueError:
                continue
            deps: set[str] = set()
            for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
                if isinstance(data.get(key), dict):
                    deps.update(data[key])
            out.append((f, deps))
        return out


def join(base: PurePosixPath, *parts: str) -> str:
    return PurePosixPath(base, *parts).as_posix()


def inside(value: str) -> Optional[str]:
    """A configured relative folder, or None when it is absolute or climbs out."""
    value = value.strip().strip("'\"").replace("\\", "/")
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or ":" in value:
        return None
    return path.as_posix()


def script_flag(scan: Scan, package: PurePosixPath, program: str, flags: tuple[str, ...]) -> Optional[str]:
    """The folder a package.json script passes to `program` with one of `flags`."""
    try:
        scripts = json.loads(scan.read(package, 1_000_000)).get("scripts") or {}
    except (ValueError, AttributeError):
        return None
    for command in scripts.values() if isinstance(scripts, dict) else ():
        try:
            words = shlex.split(str(command))
        except ValueError:
            continue
        if program not in [PurePosixPath(w).name for w in words]:
            continue
        for i, word in enumerate(words):
            name, _, value = word.partition("=")
            if name in flags and (value or i + 1 < len(words)):
                return inside(value or words[i + 1])
    return None


def existing(scan: Scan, base: PurePosixPath, *choices: str) -> str:
    for c in choices:
        if PurePosixPath(base, c) in scan.dirs:
            return join(base, c)
    return join(base, choices[-1])


def glob_folder(pattern: str) -> Optional[str]:
    """The folder part of a migrations glob (`src/db/migrations/*.ts` -> src/db/migrations)."""
    parts = []
    for part in pattern.replace("\\", "/").split("/"):
        if any(c in part for c in "*?[{") or part.endswith((".ts", ".js")):
            break
        parts.append(part)
    return inside("/".join(parts)) if parts else None
