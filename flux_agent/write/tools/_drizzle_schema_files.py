"""The files of a Drizzle schema as drizzle-kit reads them: what drizzle.config's `schema` names (a
file, a folder's files, a glob, or a list of these), then the files those re-export from
(`export { users } from "./auth"`, `export * from "./todo"`), the tables being wherever that leads."""

from __future__ import annotations

from pathlib import Path

from ._drizzle_schema_ts import TsError, match_close, str_value, tokenize_ts

__all__ = ["CONFIGS", "schema_files"]

CONFIGS = tuple(f"drizzle.config.{e}" for e in ("ts", "mts", "cts", "js", "mjs", "cjs"))
EXTS = (".ts", ".js", ".mts", ".cts", ".mjs", ".cjs")  # what drizzle-kit accepts as a schema file


def _config_entries(toks, name: str) -> tuple[list[str] | None, str]:
    """The `schema:` value of the config's tokens: its strings, or None and why."""
    for i, t in enumerate(toks[:-2]):
        if t.text == "schema" and toks[i + 1].text == ":":
            if toks[i + 2].text == "[":
                items = toks[i + 3:match_close(toks, i + 2)]
                values = [str_value(x) for x in items if x.text != ","]
            else:
                values = [str_value(toks[i + 2])]
            if not values or any(v is None for v in values):
                return None, f"{name} names its schema by an expression; edit the pgTable by hand"
            return values, ""
    return None, f"{name} names no schema file"


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


def _module(importer: Path, spec: str) -> Path | None:
    """The file a relative module specifier names (TypeScript's `./x.js` meaning ./x.ts too)."""
    if not spec.startswith("."):
        return None
    base = importer.parent / spec
    stem = base.with_suffix("") if base.suffix in EXTS else base
    for cand in (base, *(stem.with_suffix(e) for e in EXTS), *(base / f"index{e}" for e in EXTS)):
        if cand.is_file() and cand.suffix in EXTS:
            return cand
    return None


def _reexports(path: Path) -> list[Path]:
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
            found = _module(path, spec)
            if found is not None:
                out.append(found)
    return out


def _config(project: Path, near: Path | None) -> Path | None:
    """drizzle.config in the project's folder, or in a folder between it and the migrations (a
    monorepo's package: `drizzle-kit generate --config packages/db/drizzle.config.ts`)."""
    folders = [project]
    if near is not None:
        folders += [d for d in reversed((project / near).parents) if d.is_relative_to(project) and d != project]
    return next((d / n for d in folders for n in CONFIGS if (d / n).is_file()), None)


def schema_files(project_dir: Path, near: Path | None = None) -> tuple[list[str], str]:
    """(the schema's files relative to the project, the config's entries first; why none). `near`,
    the migrations folder, finds a config in a package of the project."""
    project = Path(project_dir).resolve()
    cfg = _config(project, near)
    if cfg is None:
        return [], "no drizzle.config.ts in the project"
    name = cfg.relative_to(project).as_posix()
    try:
        values, why = _config_entries(tokenize_ts(cfg.read_text(encoding="utf-8")), name)
    except (TsError, OSError) as exc:
        return [], f"cannot read {name}: {exc}"
    if values is None:
        return [], why
    # drizzle-kit reads the paths from the folder it runs in: the package's, or the config's
    package = next((d for d in [cfg.parent, *cfg.parent.parents] if (d / "package.json").is_file()
                    and d.is_relative_to(project)), cfg.parent)
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
        queue += _reexports(path)
    return [p.relative_to(project).as_posix() for p in seen], ""


def drop_reexport(text: str, importer: Path, name: str, target: Path) -> str:
    """`text` (the file `importer`) without `name` (or `name as x`) in its `export { ... } from` lists
    naming `target`; a list left empty goes with its statement."""
    while True:
        toks = tokenize_ts(text)
        for i, t in enumerate(toks[:-3]):
            if t.text != "export" or toks[i + 1].text != "{":
                continue
            close = match_close(toks, i + 1)
            spec = str_value(toks[close + 2]) if close + 2 < len(toks) and toks[close + 1].text == "from" else None
            found = _module(importer, spec) if spec else None
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
