"""The project's own formatting run on the migrations Flux writes, before anything is written, so a
project checking its format in CI or a commit hook finds them formatted already (outline's oxfmt
rewrote 9 lines of Flux's first Sequelize file into 25): for JavaScript and TypeScript its formatter
(prettier, Biome or oxfmt, installed and configured in the project), else its quotes and indentation
(_js_style), then its ESLint's --fix (linter.py); for Alembic and Django what the tool itself runs on the files it writes
(_formatter_python). A formatter's output is kept only if the strings in it (the SQL) are unchanged."""

from __future__ import annotations

import ast
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from ..project.ts_tokens import TsError, cooked, tokenize_ts
from ._formatter_python import format_python, python_formatter
from ..model.plan import CodeChange
from ..project.places import nearest_node_tool
from .base import FileJob
from .code_changes import apply, created, patch_for, read
from .linter import eslint_fix, find_eslint
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
    name: Literal["prettier", "biome", "oxfmt", "black", "ruff"]
    exe: Path  # node_modules/.bin/<name> of the project (or a folder of it); black's and ruff's where installed

    def argv(self, rel: str) -> list[str]:
        """Format stdin as the file `rel` (relative to the project) would be: its config, its ignores."""
        if self.name == "black":
            return [str(self.exe), "-q", "--stdin-filename", rel, "-"]
        if self.name == "ruff":
            return [str(self.exe), "format", "--stdin-filename", rel, "-"]
        if self.name == "biome":
            return [str(self.exe), "format", f"--stdin-file-path={rel}"]
        if self.name == "oxfmt":
            return [str(self.exe), f"--stdin-filepath={rel}"]
        return [str(self.exe), "--stdin-filepath", rel]


def _js_formatters_in(folder: Path) -> list[str]:
    """The JavaScript formatters `folder` configures: a config file, package.json's "prettier" key, or a
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
    binary is installed in a node_modules/.bin on the way (a Python file's: _formatter_python); None
    if there is none, or the nearest is not installed (another one further up is not what that folder
    is formatted with)."""
    if rel.endswith(".py"):
        found = python_formatter(Path(project_dir), rel)
        return Formatter(found[0], Path(found[1])) if found else None  # type: ignore[arg-type]
    found = nearest_node_tool(Path(project_dir), Path(rel).parent, _js_formatters_in)
    return Formatter(found[0], found[1]) if found is not None else None  # type: ignore[arg-type]


def _js_strings(text: str) -> Optional[list[str]]:
    """The values of the strings and template literals of `text` (the SQL is in them), sorted (a linter
    may reorder the imports); None if it does not tokenize."""
    try:
        return sorted(cooked(t) or t.text for t in tokenize_ts(text) if t.kind == "str")
    except TsError:
        return None


def run_formatter(formatter: Formatter, project_dir: Path, job: FileJob) -> tuple[Optional[str], str]:
    """(formatted text, "") or (None, why not): the formatter's exit, its silence, or SQL it changed
    (a plugin formatting embedded SQL would ship SQL Flux never ran)."""
    try:
        # Bytes, not text: text mode would read a CRLF file's output back with "\n" (babybuddy's models.py).
        done = subprocess.run(formatter.argv(job.rel), input=job.content.encode("utf-8"), capture_output=True,
                              cwd=project_dir, timeout=_TIMEOUT_S)
        proc = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "replace"),
                                           done.stderr.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired:
        return None, f"{formatter.name} took more than {_TIMEOUT_S} s"
    except OSError as exc:
        return None, f"{formatter.name} could not start: {exc.strerror or exc}"
    if proc.returncode != 0 or not proc.stdout.strip():
        said = [line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
        said = [line for line in said if "error" in line.lower()] or said  # not node's stack frames
        return None, f"{formatter.name} exited {proc.returncode}" + (f": {said[0]}" if said else "")
    if _kept(job.rel, proc.stdout) != _kept(job.rel, job.content):
        return None, f"{formatter.name} changed the SQL in the file"
    return proc.stdout, ""


def _kept(rel: str, text: str):
    """What formatting `rel` must leave as it is: a Python file's strings, a JSON file's value (the plan
    record), a JavaScript file's strings' values (the SQL). None where it does not read."""
    if rel.endswith(".py"):
        return _py_strings(text)
    if rel.endswith(".json"):
        try:
            return ("json", json.loads(text))
        except ValueError:
            return None
    return _js_strings(text)


def _py_strings(text: str) -> Optional[list[str]]:
    """The string constants of a Python module but its docstrings (black re-indents those), in order."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def _record(job: FileJob, project_dir: Path) -> FileJob:
    """A plan record (.flux/plans/*.json, committed with the migrations) in the layout of the project's
    formatter: `prettier --check .` flagged the record Flux wrote. Kept only if it reads as the same JSON."""
    formatter = find_formatter(project_dir, job.rel)
    text = run_formatter(formatter, project_dir, job)[0] if formatter is not None else None
    return FileJob(job.rel, text, job.replace) if text is not None else job


def format_jobs(jobs: list[FileJob], project_dir: Path, tool: str = "",
                enabled: bool = True) -> tuple[list[FileJob], list[str], list[str]]:
    """The jobs in the project's format (where `enabled`): JavaScript/TypeScript by its formatter, else
    restyled to its quotes and indentation; Alembic's and Django's Python as the tool formats its own
    files; with what ran, and a note for each file a formatter failed on. Not `enabled`: as written."""
    if not enabled:
        return jobs, [], []
    out, used, notes = [], [], []
    py = {j.rel: j.content for j in jobs if not j.replace and j.rel.endswith(".py")}
    formatted, py_used, py_notes = format_python(py, Path(project_dir), tool)
    used += py_used
    notes += py_notes
    for job in jobs:
        if job.rel in py:
            text = formatted[job.rel]
            if _kept(job.rel, text) != _kept(job.rel, job.content):
                notes.append(f"{job.rel}: not formatted ({', '.join(py_used)} changed the SQL in the file)")
                text = job.content
            out.append(FileJob(job.rel, text))
            continue
        if job.rel.startswith(".flux/") and job.rel.endswith(".json"):
            out.append(_record(job, project_dir))
            continue
        if job.replace or not job.rel.endswith(JS_EXTS):
            out.append(job)
            continue
        text = None
        formatter = find_formatter(project_dir, job.rel)
        if formatter is not None:
            text, why = run_formatter(formatter, project_dir, job)
            if text is not None:
                used.append(formatter.name)
            else:
                notes.append(f"{job.rel}: not formatted ({why}); restyled to the project's quotes and indentation")
        if text is None:
            style = js_style(project_dir, Path(job.rel).parent)
            text = restyle(job.content, style) if style is not None else job.content
        eslint = find_eslint(project_dir, job.rel)
        if eslint is not None:
            linted, said = eslint_fix(eslint, project_dir, job.rel, text, lambda t, rel=job.rel: _kept(rel, t))
            notes += said
            if linted is not None:
                text = linted
                used.append("eslint --fix")
        out.append(FileJob(job.rel, text))
    return out, list(dict.fromkeys(used)), notes


def format_code_changes(changes: list[CodeChange], project_dir: Path, enabled: bool = True) -> list[CodeChange]:
    """The model changes (TypeORM's entities, Drizzle's schema, Django's and SQLAlchemy's models) as the
    project's formatter leaves them: a new file formatted; an edited one formatted where it was in the
    formatter's layout before the edit (else the edit alone: formatting would touch lines Flux did not)."""
    out = []
    for change in changes:
        formatter = find_formatter(project_dir, change.path) if enabled and change.patch and \
            change.path.endswith((*JS_EXTS, ".py")) else None
        if formatter is None:
            out.append(change)
            continue
        new = change.patch.startswith("--- /dev/null")
        try:
            before = "" if new else read(Path(project_dir) / change.path)
            after = apply(before, change.patch)
        except (OSError, ValueError):
            out.append(change)
            continue
        if not new and run_formatter(formatter, project_dir, FileJob(change.path, before))[0] != before:
            out.append(change)
            continue
        text, _ = run_formatter(formatter, project_dir, FileJob(change.path, after))
        if text is None or text == after:
            out.append(change)
            continue
        patch = created(change.path, text) if new else patch_for(project_dir, change.path, text)
        out.append(change.model_copy(update={"patch": patch}))
    return out
