"""The layout a project gives its JavaScript and TypeScript, and a written migration made to follow it
where the project's formatter cannot run (write/formatter.py): quotes and the indentation unit, from
its formatter's config (prettier, oxfmt, Biome), else from its newest migration (a project that runs
eslint with prettier fails its lint on a file written otherwise: brocoders/nestjs-boilerplate, single
quotes and two spaces, 47 errors in Flux's first files)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ...project.ts_tokens import TsError, tokenize_ts
from ...project.places import folders_up

_PRETTIER_FILES = (".prettierrc", ".prettierrc.json", ".prettierrc.yaml", ".prettierrc.yml")


@dataclass(frozen=True)
class JsStyle:
    single: bool = False  # strings in single quotes
    indent: str = "    "  # one level of indentation
    semi: bool = True  # statements end with `;` (prettier's `semi: false`, Biome's "asNeeded": they do not)


def _load(path: Path) -> Optional[dict]:
    try:
        import yaml  # JSON is YAML too

        found = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None
    return found if isinstance(found, dict) else None


def _style_configured(folder: Path) -> Optional[JsStyle]:
    """The style a formatter's config in `folder` sets: prettier's (a config file, package.json's
    "prettier"), oxfmt's (prettier's options), Biome's (its formatter and javascript sections)."""
    options = None
    for name in (*_PRETTIER_FILES, ".oxfmtrc.json"):
        if (folder / name).is_file():
            options = _load(folder / name)
            break
    else:
        pkg = folder / "package.json"
        if pkg.is_file():
            try:
                found = json.loads(pkg.read_text(encoding="utf-8")).get("prettier")
            except (OSError, ValueError, AttributeError):
                found = None
            options = found if isinstance(found, dict) else None
    if options is not None:
        width = options.get("tabWidth", 2)
        indent = "\t" if options.get("useTabs") else " " * (width if isinstance(width, int) and 0 < width < 9 else 2)
        return JsStyle(single=bool(options.get("singleQuote")), indent=indent, semi=options.get("semi") is not False)
    if (folder / "biome.json").is_file():
        biome = _load(folder / "biome.json") or {}
        general = biome.get("formatter") if isinstance(biome.get("formatter"), dict) else {}
        js = (biome.get("javascript") or {}).get("formatter") if isinstance(biome.get("javascript"), dict) else None
        js = js if isinstance(js, dict) else {}
        width = js.get("indentWidth", general.get("indentWidth", 2))
        tabs = js.get("indentStyle", general.get("indentStyle", "tab")) == "tab"  # Biome's default: tabs
        return JsStyle(single=js.get("quoteStyle") == "single",
                       indent="\t" if tabs else " " * (width if isinstance(width, int) and 0 < width < 9 else 2),
                       semi=js.get("semicolons") != "asNeeded")
    return None


def _from_file(text: str) -> Optional[JsStyle]:
    """The style a written file shows: its quotes (the more used) and its smallest indentation."""
    try:
        toks = tokenize_ts(text)
    except TsError:
        return None
    quotes = [t.text[0] for t in toks if t.kind == "str" and t.text[0] in "'\""]
    unit = _unit(text, toks)
    if not quotes and unit is None:
        return None
    # Flowise's migrations end no statement with `;` (prettier's semi: false): a file of statements none ends so.
    statements = sum(line.lstrip().startswith(("import ", "await ", "export ", "return ", "const "))
                     for line in text.splitlines())
    return JsStyle(single=quotes.count("'") > quotes.count('"'), indent=unit or "    ",
                   semi=bool(_line_end_semicolons(text, toks)) or statements < 2)


def _line_end_semicolons(text: str, toks) -> list:
    """The `;` tokens that end their line (nothing but blanks after them on it)."""
    return [t for t in toks if t.kind == "punct" and t.text == ";" and not text[t.end:].split("\n", 1)[0].strip()]


def _unit(text: str, toks) -> Optional[str]:
    """The smallest indentation of a line of `text` starting outside a template literal."""
    spans = [(t.start, t.end) for t in toks if t.kind == "str" and t.text[0] == "`"]
    widths, pos = [], 0
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" \t")
        # (a block comment's ` * ` lines sit one space in: stacks' files were written one space deep)
        if stripped.strip() and len(stripped) < len(line) and not stripped.startswith("*") \
                and not any(a < pos < b for a, b in spans):
            if line.startswith("\t"):
                return "\t"
            widths.append(len(line) - len(stripped))
        pos += len(line)
    return " " * min(widths) if widths else None


def js_style(project_dir: Path, folder, exts: tuple[str, ...] = (".ts", ".js", ".cjs", ".mjs")) -> Optional[JsStyle]:
    """The style of the migrations folder's project: its formatter's options from the folder up to
    the project, else the newest migration's; None when neither tells."""
    here = Path(project_dir) / folder
    for d in folders_up(project_dir, folder):
        found = _style_configured(d)
        if found is not None:
            return found
    names = sorted(n for n in os.listdir(here) if n.endswith(exts) and n[:1].isdigit()) if here.is_dir() else []
    if names:
        try:
            return _from_file((here / names[-1]).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return None
    return None


_SIMPLE_ESCAPES = {"\\\\": "\\", "\\'": "'", '\\"': '"'}


def _requoted(literal: str, single: bool) -> str:
    """A plain string literal in the quotes `single` asks for (prettier's rule: unless the value holds
    more of them than of the other kind). A literal with other escapes is left as it is."""
    body, value, i = literal[1:-1], [], 0
    while i < len(body):
        pair = body[i:i + 2]
        if body[i] == "\\":
            if pair not in _SIMPLE_ESCAPES:
                return literal
            value.append(_SIMPLE_ESCAPES[pair])
            i += 2
            continue
        value.append(body[i])
        i += 1
    text = "".join(value)
    quote = "'" if single else '"'
    other = '"' if single else "'"
    if text.count(quote) > text.count(other):
        quote = other
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


def restyle(text: str, style: JsStyle) -> str:
    """`text` (a file a writer made) in `style`: its plain strings in the style's quotes, its
    indentation in the style's unit. Template literals (the SQL) are left as they are, inside and out."""
    try:
        toks = tokenize_ts(text)
    except TsError:
        return text
    for t in reversed([t for t in toks if t.kind == "str" and t.text[0] in "'\""]):
        text = text[:t.start] + _requoted(t.text, style.single) + text[t.end:]
    toks = tokenize_ts(text)
    if not style.semi:  # (no line of a written migration starts with `(`, `[` or a template: no ASI hazard)
        for t in reversed(_line_end_semicolons(text, toks)):
            text = text[:t.start] + text[t.end:]
        toks = tokenize_ts(text)
    unit = _unit(text, toks)
    if unit is None or unit == style.indent:
        return text
    spans = [(t.start, t.end) for t in toks if t.kind == "str" and t.text[0] == "`"]
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        inside = any(a < pos < b for a, b in spans)
        stripped = line.lstrip(unit[0])
        width = len(line) - len(stripped)
        out.append(line if inside or width % len(unit) else style.indent * (width // len(unit)) + stripped)
        pos += len(line)
    return "".join(out)
