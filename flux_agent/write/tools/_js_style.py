"""The layout a project gives its JavaScript and TypeScript, and a written migration made to follow it:
quotes and the indentation unit, from its prettier config, else from its newest migration (a project
that runs eslint with prettier fails its lint on a file written otherwise: brocoders/nestjs-boilerplate,
single quotes and two spaces, 47 errors in Flux's first files)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ...project.ts_tokens import TsError, tokenize_ts

_PRETTIER_FILES = (".prettierrc", ".prettierrc.json", ".prettierrc.yaml", ".prettierrc.yml")


@dataclass(frozen=True)
class JsStyle:
    single: bool = False  # strings in single quotes
    indent: str = "    "  # one level of indentation


def _prettier(folder: Path) -> Optional[dict]:
    """The prettier options set in `folder` (a config file, or package.json's "prettier"), if any."""
    for name in _PRETTIER_FILES:
        path = folder / name
        if path.is_file():
            try:
                import yaml  # JSON is YAML too

                found = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, yaml.YAMLError):
                return None
            return found if isinstance(found, dict) else None
    pkg = folder / "package.json"
    if pkg.is_file():
        try:
            found = json.loads(pkg.read_text(encoding="utf-8")).get("prettier")
        except (OSError, ValueError, AttributeError):
            return None
        return found if isinstance(found, dict) else None
    return None


def _from_file(text: str) -> Optional[JsStyle]:
    """The style a written file shows: its quotes (the more used) and its smallest indentation."""
    try:
        toks = tokenize_ts(text)
    except TsError:
        return None
    quotes = [t.text[0] for t in toks if t.kind == "str" and t.text[0] in "'\""]
    indents = [m.group(1) for m in re.finditer(r"^([ \t]+)\S", text, re.M)]
    if not quotes and not indents:
        return None
    unit = "\t" if any(i.startswith("\t") for i in indents) else " " * min((len(i) for i in indents), default=4)
    return JsStyle(single=quotes.count("'") > quotes.count('"'), indent=unit)


def js_style(project_dir: Path, folder, exts: tuple[str, ...] = (".ts", ".js", ".cjs", ".mjs")) -> JsStyle:
    """The style of the migrations folder's project: prettier's options from the folder up to the
    project, else the newest migration's, else Flux's own (double quotes, four spaces)."""
    root = Path(project_dir)
    here = root / folder
    for d in [here, *here.parents]:
        found = _prettier(d)
        if found is not None:
            width = found.get("tabWidth", 2)
            indent = "\t" if found.get("useTabs") else " " * (width if isinstance(width, int) and 0 < width < 9 else 2)
            return JsStyle(single=bool(found.get("singleQuote")), indent=indent)
        if d == root or root not in d.parents:
            break
    names = sorted(n for n in os.listdir(here) if n.endswith(exts) and n[:1].isdigit()) if here.is_dir() else []
    if names:
        try:
            found_style = _from_file((here / names[-1]).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            found_style = None
        if found_style is not None:
            return found_style
    return JsStyle()


def restyle(text: str, style: JsStyle) -> str:
    """`text` (a file Flux wrote: double quotes, four spaces a level) in `style`. Template literals
    (the SQL) are left as they are, inside and out."""
    if style == JsStyle():
        return text
    if style.single:
        for t in reversed([t for t in tokenize_ts(text) if t.kind == "str" and t.text[0] == '"']):
            value = json.loads(t.text)
            single = "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
            text = text[:t.start] + single + text[t.end:]
    spans = [(t.start, t.end) for t in tokenize_ts(text) if t.kind == "str" and t.text[0] == "`"]
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        inside = any(a < pos < b for a, b in spans)
        stripped = line.lstrip(" ")
        width = len(line) - len(stripped)
        out.append(line if inside or width % 4 else style.indent * (width // 4) + stripped)
        pos += len(line)
    return "".join(out)
