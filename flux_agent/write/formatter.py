"""The project's own code formatter (prettier, Biome or oxfmt, installed and configured in the
project) run on the JavaScript and TypeScript migrations Flux writes, before anything is written:
a project checking its format in CI or a commit hook finds them formatted already (outline's oxfmt
rewrote 30 lines of Flux's first Sequelize file). Where it has none, or it fails, the file is
restyled to the project's quotes and indentation (_js_style)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from ..project.ts_tokens import TsError, tokenize_ts
from .base import FileJob
from .tools._js_style import js_style, restyle

JS_EXTS = (".js", ".cjs", ".mjs", ".ts", ".cts", ".mts")
_TIMEOUT_S = 60  # a first run may compile a TypeScript config; a hung formatter must not hang the write

_PRETTIER_CONFIGS = tuple(
    [".prettierrc", ".prettierrc.toml", ".prettierrc.json5"]
    + [f".prettierrc.{e}" for e in ("json", "yaml", "yml", "js", "cjs", "mjs", "ts", "cts", "mts")]
    + [f"prettier.config.{e}" for e in ("js", "cjs", "mjs", "ts", "cts", "mts")])
# Each formatter: its config files, the package that brings it (a dependency without a config means
# its defaults), and its binary in node_modules/.bin.
_KNOWN: dict[str, tuple[tuple[str, ...], str]] = {
    "prettier": (_PRETTIER_CONFIGS, "prettier"),
    "biome": (("biome.json", "biome.jsonc"), "@biomejs/biome"),
    "oxfmt": ((".oxfmtrc.json", ".oxfmtrc.jsonc"), "oxfmt"),
}


@dataclass(frozen=True)
class Formatter:
    name: Literal["prettier", "biome", "oxfmt"]
    exe: Path  # node_modules/.bin/<name> of the project (or a folder of it)

    def argv(self, rel: str) -> list[str]:
        """Format stdin as the file `rel` (relative to the project) would be: its config, its ignores."""
        if self.name == "biome":
            return [str(self.exe), "format", f"--stdin-file-path={rel}"]
        if self.name == "oxfmt":
            return [str(self.exe), f"--stdin-filepath={rel}"]
        return [str(self.exe), "--stdin-filepath", rel]


def _configured(folder: Path) -> list[str]:
    """The formatters `folder` configures: a config file, package.json's "prettier" key, or a
    dependency on the formatter's package."""
    names = [name for name, (configs, _) in _KNOWN.items() if any((folder / c).is_file() for c in configs)]
    pkg = folder / "package.json"
    if pkg.is_file():
        try:
            data = json.loads(pkg.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        data = data if isinstance(data, dict) else {}
        if "prettier" in data:
            names.append("prettier")
        deps: set[str] = set()
        for key in ("dependencies", "devDependencies"):
            if isinstance(data.get(key), dict):
                deps.update(data[key])
        names += [name for name, (_, package) in _KNOWN.items() if package in deps]
    return list(dict.fromkeys(names))


def find_formatter(project_dir: Path, rel: str) -> Optional[Formatter]:
    """The formatter configured nearest to `rel` (from its folder up to the project), where its
    binary is installed in a node_modules/.bin on the way; None if there is none, or the nearest is
    not installed (another one further up is not what that folder is formatted with)."""
    root = Path(project_dir).resolve()
    folders = []
    here = (root / rel).parent
    for d in [here, *here.parents]:
        folders.append(d)
        if d == root or root not in d.parents:
            break
    bins = [d / "node_modules" / ".bin" for d in folders]
    for d in folders:
        names = _configured(d)
        for name in names:
            exe = next((b / name for b in bins if os.access(b / name, os.X_OK)), None)
            if exe is not None:
                return Formatter(name, exe)  # type: ignore[arg-type]
        if names:
            return None
    return None


def _templates(text: str) -> Optional[list[str]]:
    """The template literals of `text` (the SQL), in order; None if it does not tokenize."""
    try:
        return [t.text for t in tokenize_ts(text) if t.kind == "str" and t.text[:1] == "`"]
    except TsError:
        return None


def run_formatter(formatter: Formatter, project_dir: Path, job: FileJob) -> tuple[Optional[str], str]:
    """(formatted text, "") or (None, why not): the formatter's exit, its silence, or SQL it changed
    (a plugin formatting embedded SQL would ship SQL Flux never ran)."""
    try:
        proc = subprocess.run(formatter.argv(job.rel), input=job.content, capture_output=True, text=True,
                              cwd=project_dir, timeout=_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"{formatter.name} took more than {_TIMEOUT_S} s"
    except OSError as exc:
        return None, f"{formatter.name} could not start: {exc.strerror or exc}"
    if proc.returncode != 0 or not proc.stdout.strip():
        said = [line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
        said = [line for line in said if "error" in line.lower()] or said  # not node's stack frames
        return None, f"{formatter.name} exited {proc.returncode}" + (f": {said[0]}" if said else "")
    if _templates(proc.stdout) != _templates(job.content):
        return None, f"{formatter.name} changed the SQL in the file"
    return proc.stdout, ""


def format_jobs(jobs: list[FileJob], project_dir: Path,
                enabled: bool = True) -> tuple[list[FileJob], list[str], list[str]]:
    """The jobs with their JavaScript/TypeScript in the project's format: its formatter's output where
    it has one (and `enabled`), else restyled to its quotes and indentation; the formatters that ran;
    and a note for each file its formatter failed on (that file is restyled)."""
    out, used, notes = [], [], []
    for job in jobs:
        if job.replace or not job.rel.endswith(JS_EXTS):
            out.append(job)
            continue
        formatter = find_formatter(project_dir, job.rel) if enabled else None
        if formatter is not None:
            text, why = run_formatter(formatter, project_dir, job)
            if text is not None:
                out.append(FileJob(job.rel, text))
                used.append(formatter.name)
                continue
            notes.append(f"{job.rel}: not formatted ({why}); restyled to the project's quotes and indentation")
        style = js_style(project_dir, Path(job.rel).parent)
        out.append(FileJob(job.rel, restyle(job.content, style)) if style is not None else job)
    return out, list(dict.fromkeys(used)), notes
