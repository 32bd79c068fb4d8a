"""The files of a Drizzle schema as drizzle-kit reads them: what drizzle.config's `schema` names (a
file, a folder's files, a glob, or a list of these), then the files those re-export from
(`export { users } from "./auth"`, `export * from "./todo"`), the tables being wherever that leads."""

from __future__ import annotations

from pathlib import Path

from ...project.drizzle_config import config_file, package_of, schema_entries
from ...project.ts_tokens import TsError, match_close, str_value, tokenize_ts
from ...project.ts_modules import EXTS, module_file  # EXTS: what drizzle-kit accepts as a schema file

__all__ = ["drop_reexport", "schema_files"]

def _expand(project: Path, value: str) -> tuple[list[Path], str]:
    """The files one `schema` entry names, as drizzle-kit's glob and folder reading find them."""
    if "{" in value:
        return [], f"schema {value!r} uses a brace pattern Flux does not expand; edit the pgTable by hand"
    rel = value[2:] if value.startswith("./") else value
    if any(ch in rel for ch in "*?["):
        hits = sorted(project.glob(rel))
    else:
        hits = [project / rel] if (project / rel).exists() else []
    out = []
    for hit in hits:
        out += sorted(p for p in hit.iterdir() if p.is_file()) if hit.is_dir() else [hit]
    return [p for p in out if p.suffix in EXTS and not p.name.endswith(".d.ts")], ""


def _reexports(path: Path, project: Path) -> list[Path]:
    """The files `path` re-exports from: `export * from "./x"`, `export { a, b as c } from "./x"`."""
    try:
        toks = tokenize_ts(path.read_text(encoding="utf-8"))
    except (TsError, OSError, UnicodeDecodeError):
        return []
    out = []
    for i, t in enumerate(toks[:-3]):
        if t.text != "export" or t.kind != "ident":
            continue
        j = i + 1
        if toks[j].text == "*":
            j += 3 if toks[j + 1].text == "as" else 1
        elif toks[j].text == "{":
            j = match_close(toks, j) + 1
        else:
            continue
        if j + 1 < len(toks) and toks[j].text == "from" and (spec := str_value(toks[j + 1])):
            found = module_file(path, spec, project)
            if found is not None:
                out.append(found)
    return out


def schema_files(project_dir: Path, near: Path | None = None) -> tuple[list[str], str]:
    """(the schema's files relative to the project, the config's entries first; why none). `near`,
    the migrations folder, finds a config in a package of the project."""
    project = Path(project_dir).resolve()
    cfg = config_file(project, near)
    if cfg is None:
        return [], "no drizzle.config.ts in the project"
    name = cfg.relative_to(project).as_posix()
    try:
        values, why = schema_entries(tokenize_ts(cfg.read_text(encoding="utf-8")), name)
    except (TsError, OSError) as exc:
        return [], f"cannot read {name}: {exc}"
    if values is None:
        return [], why
    package = package_of(cfg, project)
    queue = []
    for value in values:
        found, why = _expand(package, value)
        if not found and not why and package != cfg.parent:
            found, why = _expand(cfg.parent, value)
        if why:
            return [], why
        if not found:
            return [], f"{name} names schema {value}, which does not exist"
        queue += found
    seen: list[Path] = []
    while queue:
        path = queue.pop(0).resolve()
        if path in seen or not path.is_relative_to(project):
            continue
        seen.append(path)
        queue += _reexports(path, project)
    return [p.relative_to(project).as_posix() for p in seen], ""


def drop_reexport(text: str, importer: Path, name: str, target: Path, project: Path) -> str:
    """`text` (the file `importer`) without `name` (or `name as x`) in its `export { ... } from` lists
    naming `target`; a list left empty goes with its statement."""
    while True:
        toks = tokenize_ts(text)
        for i, t in enumerate(toks[:-3]):
            if t.text != "export" or toks[i + 1].text != "{":
                continue
            close = match_close(toks, i + 1)
            spec = str_value(toks[close + 2]) if close + 2 < len(toks) and toks[close + 1].text == "from" else None
            found = module_file(importer, spec, project) if spec else None
            if found is None or found.resolve() != target.resolve():
                continue
            entries, first = [], i + 2
            for j in range(i + 2, close + 1):
                if toks[j].text in (",", "}"):
                    if j > first:
                        entries.append((first, j - 1))
                    first = j + 1
            hit = next(((a, b) for a, b in entries if toks[a].text == name), None)
            if hit is None:
                continue
            if len(entries) == 1:
                end = close + 3 if close + 3 < len(toks) and toks[close + 3].text == ";" else close + 2
                start, stop = toks[i].start, toks[end].end
                if text[stop:stop + 1] == "\n" and (start == 0 or text[start - 1] == "\n"):
                    stop += 1
            else:  # the entry and one comma beside it; its whole line where it stood alone on one
                a, b = hit
                after = toks[b + 1].text == ","
                start, stop = toks[a].start, toks[b + 1].end if after else toks[b].end
                line, eol = text.rfind("\n", 0, start) + 1, text.find("\n", stop)
                if not text[line:start].strip() and not text[stop:eol].strip():
                    start, stop = line, eol + 1
                elif after:
                    stop = toks[b + 2].start if toks[b + 2].text != "}" else stop
                else:
                    start = toks[a - 1].start
            text = text[:start] + text[stop:]
            break
        else:
            return text
