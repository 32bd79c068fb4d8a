"""Whether the project's DataSource takes in a new entity file: a glob of its `entities` that matches
the file (`__dirname + "/entity/*.ts"`, `"src/**/*.entity{.ts,.js}"`), or a list of classes the new
class is added to (imported beside the others)."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Optional

from ...devdb.runners.typeorm import data_source
from ...project.ts_tokens import TsError, match_close, str_value, tokenize_ts
from ._typeorm_entity_file import EntityFile
from ._typeorm_entity_ts import NotEditable, split_args


def glob_matches(pattern: str, path: str) -> bool:
    """Does posix `path` match a glob as TypeORM's (`**` any folders, `*`, `?`, `{a,b}`)?"""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "{":
            end = pattern.find("}", i)
            if end < 0:
                out.append(re.escape(ch))
            else:
                out.append("(?:" + "|".join(re.escape(a) for a in pattern[i + 1:end].split(",")) + ")")
                i = end + 1
                continue
        else:
            out.append(re.escape(ch))
        i += 1
    return re.fullmatch("".join(out), path) is not None


def _element_path(toks, a: int, b: int, here: str, root: str = "") -> Optional[str]:
    """The path an `entities` element spells (strings, `__dirname`, `+`, path.join/resolve(...)), as
    an absolute posix path (a relative one is the project's, where TypeORM's CLI runs); None where it
    is no such expression (a class). `root`: the project's folder; empty inside a join's arguments."""
    parts, i = [], a
    while i <= b:
        t = toks[i]
        if t.kind == "str" and str_value(t) is not None:
            parts.append(str_value(t))
        elif t.text == "__dirname":
            parts.append(here)
        elif t.text in ("join", "resolve") and i + 1 <= b and toks[i + 1].text == "(":
            close = match_close(toks, i + 1)
            inner = [_element_path(toks, x, y, here) for x, y in split_args(toks, i + 1, close)]
            if None in inner:
                return None
            parts.append(os.path.join(*inner) if inner else "")
            i = close
        elif t.text not in ("+", "path", ".", "(", ")"):
            return None
        i += 1
    if not parts:
        return None
    joined = "".join(parts)
    return joined if joined.startswith("/") or not root else os.path.join(root, joined)


def register(project: Path, new_rel: str, class_name: str) -> Optional[tuple[str, str]]:
    """None where a glob of the DataSource's `entities` takes the new file in; else (the DataSource
    file, relative, and its text with the class added to the list and imported). NotEditable where
    neither can be told (no DataSource file, entities given otherwise)."""
    source = data_source(project)
    if source is None:
        raise NotEditable("no DataSource file found: register the new entity where the project lists entities")
    rel = source.relative_to(project).as_posix()
    ef = EntityFile(source.read_text(encoding="utf-8"), lambda p: p)
    try:
        toks = tokenize_ts(ef.text)
    except TsError as exc:
        raise NotEditable(f"{rel}: {exc}") from None
    at = next((k for k in range(len(toks) - 2) if toks[k].text == "entities" and toks[k + 1].text == ":"
               and toks[k + 2].text == "["), None)
    if at is None:
        raise NotEditable(f"{rel} lists no entities array: register the new entity where the project lists them")
    open_, close = at + 2, match_close(toks, at + 2)
    here = PurePosixPath(os.fspath(source.parent)).as_posix()
    target = (PurePosixPath(os.fspath(project)) / new_rel).as_posix()
    elements = split_args(toks, open_, close)
    globs = [_element_path(toks, a, b, here, PurePosixPath(os.fspath(project)).as_posix()) for a, b in elements]
    for pattern in globs:
        if pattern is not None and (glob_matches(os.path.normpath(pattern), target)
                                    or glob_matches(pattern, target)):
            return None
    classes = [toks[a].text for (a, b), g in zip(elements, globs) if g is None and a == b and toks[a].kind == "ident"]
    if not classes:
        raise NotEditable(f"no glob of {rel}'s entities takes in {new_rel}: register the new entity there")
    last = toks[close - 1]
    ef.splice(last.end, last.end, f"{'' if last.text == ',' else ','} {class_name}")
    module = os.path.relpath(os.path.join(project, new_rel), source.parent).replace(os.sep, "/")
    module = module[: -len(".ts")] if module.endswith(".ts") else module
    module = module if module.startswith(".") else "./" + module
    imports = [k for k, t in enumerate(toks) if t.text == "import" and (k == 0 or "\n" in ef.text[toks[k - 1].end:t.start])]
    line = f"import {{ {class_name} }} from {ef.quote(module)}{ef.semicolon}\n"
    if imports:
        end = ef.text.find("\n", toks[_statement_end(toks, imports[-1])].end) + 1
        ef.splice(end, end, line)
    else:
        ef.text = line + ef.text
    return rel, ef.text


def _statement_end(toks, k: int) -> int:
    """The last token of the import statement starting at token k (its module string, or `;`)."""
    while k < len(toks) and toks[k].kind != "str":
        k += 1
    return k + 1 if k + 1 < len(toks) and toks[k + 1].text == ";" else k
