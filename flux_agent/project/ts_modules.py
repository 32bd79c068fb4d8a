"""Which file a TypeScript import names, as the compiler resolves it for a schema file: a relative
specifier (`./x`, `./x.js` meaning ./x.ts), or an alias from the nearest tsconfig.json's `paths`
(dokploy's `export * from "@dokploy/server/db/schema"`, mapped to ../../packages/server/src/*)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .ts_tokens import TsError, tokenize_ts

__all__ = ["EXTS", "module_file"]

EXTS = (".ts", ".js", ".mts", ".cts", ".mjs", ".cjs")


def _file(base: Path) -> Path | None:
    stem = base.with_suffix("") if base.suffix in EXTS else base
    for cand in (base, *(stem.with_suffix(e) for e in EXTS), *(base / f"index{e}" for e in EXTS)):
        if cand.is_file() and cand.suffix in EXTS:
            return cand
    return None


def _jsonc(text: str) -> dict:
    """tsconfig's JSON with comments and trailing commas: its tokens without the comments (the
    tokenizer drops them) and without a comma before a closing bracket, read as JSON."""
    toks = [t for t in tokenize_ts(text)]
    kept = [t.text for i, t in enumerate(toks)
            if not (t.text == "," and i + 1 < len(toks) and toks[i + 1].text in ("}", "]"))]
    data = json.loads(" ".join(kept))
    return data if isinstance(data, dict) else {}


@lru_cache(maxsize=64)
def _paths(tsconfig: Path) -> tuple[Path, tuple[tuple[str, tuple[str, ...]], ...]]:
    """(the folder `paths` are relative to, its patterns), `extends` followed where it is a file."""
    try:
        data = _jsonc(tsconfig.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TsError, ValueError):
        return tsconfig.parent, ()
    options = data.get("compilerOptions") or {}
    base = tsconfig.parent / options["baseUrl"] if isinstance(options.get("baseUrl"), str) else tsconfig.parent
    paths = options.get("paths")
    if not isinstance(paths, dict):
        parent = data.get("extends")
        if isinstance(parent, str) and parent.startswith("."):
            target = tsconfig.parent / parent
            target = target if target.suffix == ".json" else target.with_suffix(".json")
            return _paths(target.resolve()) if target.is_file() else (base, ())
        return base, ()
    return base, tuple((k, tuple(v for v in vs if isinstance(v, str))) for k, vs in paths.items()
                       if isinstance(vs, list))


def _alias(importer: Path, spec: str, stop: Path) -> Path | None:
    for folder in importer.parents:
        config = folder / "tsconfig.json"
        if config.is_file():
            base, patterns = _paths(config.resolve())
            for pattern, targets in patterns:
                head, star, tail = pattern.partition("*")
                if star and spec.startswith(head) and spec.endswith(tail) and len(spec) >= len(head) + len(tail):
                    middle = spec[len(head):len(spec) - len(tail)]
                elif not star and spec == pattern:
                    middle = ""
                else:
                    continue
                for target in targets:
                    found = _file(base / target.replace("*", middle))
                    if found is not None:
                        return found
            return None
        if folder == stop:
            return None
    return None


def module_file(importer: Path, spec: str, project: Path) -> Path | None:
    """The file `spec`, imported from `importer`, names; None for a package or what is not found."""
    if spec.startswith("."):
        return _file(importer.parent / spec)
    return _alias(importer, spec, project)
