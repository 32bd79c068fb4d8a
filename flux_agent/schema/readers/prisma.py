"""Read a Prisma schema (`schema.prisma`, or a folder of `.prisma` files) into the Schema model.

The Prisma schema language is not SQL, so it gets a small tokenizer and parser
of its own (_prisma_parse.py). The mapping (_prisma_map.py) follows what `prisma migrate` creates in PostgreSQL:
models -> tables (@@map), fields -> columns (@map), Prisma's constraint names
(`<table>_pkey`, `<table>_<cols>_key|_idx|_fkey`, from database names, cut to 63
bytes as prisma-engines does), scalar lists as nullable arrays, and no foreign
keys when `relationMode = "prisma"`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ...errors import FluxInputError
from ...model.schema import Schema
from ..normal import normalise_schema
from ._prisma_map import SCALARS, build_schema
from ._prisma_parse import Block, parse_prisma

__all__ = ["read_prisma", "read_prisma_project", "parse_prisma"]


def _prisma_files(folder: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in ("node_modules", "migrations") and not d.startswith("."))
        found += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(".prisma")]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _incomplete(blocks: list[Block]) -> bool:
    """True when a main schema file has no models, or uses types it does not define."""
    defined = {b.name for b in blocks} | set(SCALARS) | {"Unsupported"}
    models = [b for b in blocks if b.kind in ("model", "view", "type")]
    return not models or any(f.type not in defined for b in models for f in b.fields)


def _read_blocks(file: Path) -> list[Block]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FluxInputError(f"{file}: cannot read: {exc}") from None
    return parse_prisma(text, str(file))


def read_prisma(path: Path) -> Schema:
    """The schema a Prisma schema file, or a folder of `.prisma` files, describes."""
    path = Path(path)
    if path.is_dir():
        files = _prisma_files(path)
        if not files:
            raise FluxInputError(f"no .prisma files in {path}")
        blocks = [b for f in files for b in _read_blocks(f)]
    elif path.is_file():
        blocks = _read_blocks(path)
        if any(b.kind == "datasource" for b in blocks) and _incomplete(blocks):
            # Multi-file schema named by its main file (prisma/schema.prisma + prisma/models/*.prisma):
            # the other files beside or below it that hold no datasource of their own belong to it.
            for other in _prisma_files(path.parent):
                if other.resolve() != path.resolve():
                    more = _read_blocks(other)
                    if not any(b.kind == "datasource" for b in more):
                        blocks += more
    else:
        raise FluxInputError(f"Prisma schema {path} does not exist")
    return normalise_schema(build_schema(blocks), in_place=True)


def read_prisma_project(project_dir: Path) -> Schema:
    """Find a project's Prisma schema the way the Prisma CLI does, and read it."""
    root = Path(project_dir)
    candidates = []
    pkg = root / "package.json"
    if pkg.is_file():
        try:
            conf = json.loads(pkg.read_text(encoding="utf-8")).get("prisma")
        except (OSError, ValueError, AttributeError):
            conf = None
        if isinstance(conf, dict) and isinstance(conf.get("schema"), str):
            candidates.append(root / conf["schema"])
    for name in ("prisma.config.ts", "prisma.config.mts", "prisma.config.js", "prisma.config.mjs"):
        cfg = root / name
        if cfg.is_file():  # `schema: "prisma/"` in defineConfig({...})
            text = cfg.read_text(encoding="utf-8", errors="replace")
            found = re.search(r"""\bschema\s*:\s*["'`]([^"'`]+)["'`]""", text)
            if found:
                candidates.append(root / found.group(1))
    candidates += [root / "prisma" / "schema", root / "prisma" / "schema.prisma", root / "schema.prisma"]
    for c in candidates:
        if c.is_file() or (c.is_dir() and _prisma_files(c)):
            return read_prisma(c)
    raise FluxInputError(
        f"no Prisma schema found in {root} (looked for package.json prisma.schema, prisma/schema, prisma/schema.prisma)"
    )

