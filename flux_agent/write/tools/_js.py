"""What the JavaScript/TypeScript writers share: SQL as a JS string literal,
SQL cut into statements (comments kept), stamps, header comments.

Template literals keep multi-line SQL readable; `\\`, `` ` `` and `${` are
escaped, and so are control characters other than newline and tab (a raw
carriage return inside a template literal would be read as a newline).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ...errors import FluxInputError
from ...pg.split import SqlSyntaxError, cut_statements
from ...model.plan import Step
from .._layout import utc
from ...project.places import folders_up
from ..base import down_sql, no_sql, one_line, step_label, up_sql

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


def template(text: str) -> str:
    """`text` as a JS template literal whose value is exactly `text`."""
    body = text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    body = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", body)
    return f"`{body}`"


def string(text: str) -> str:
    """`text` as a double-quoted JS string literal (JSON's rules, valid JS)."""
    return json.dumps(text, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def statements(sql: str) -> list[str]:
    """`sql` cut into statements (pg.split.cut_statements), each keeping the comments
    before it and its closing semicolon. A step that must run outside a transaction
    sends each statement as its own query: a multi-statement query is one
    implicit transaction to PostgreSQL, where CONCURRENTLY and a DO block's
    COMMIT both fail."""
    try:
        return cut_statements(sql)
    except SqlSyntaxError as exc:
        raise FluxInputError(f"cannot split SQL into statements: {exc}") from None


def body_sql(step: Step, down: bool = False) -> list[str]:
    """The statements of the step's up (or down) SQL; [] for a down with nothing to undo."""
    if down:
        sql = down_sql(step)
        return statements(sql) if sql else []
    found = statements(up_sql(step))
    if not found:  # comments only: nothing for the tool to run
        raise no_sql(step)
    # The guard (a non-transactional step's own first statement) is one more query before them.
    return (statements(step.guard_sql) if step.guard_sql else []) + found


def comment_lines(*lines: str, prefix: str = "// ") -> str:
    return "".join(f"{prefix}{one_line(line)}\n" for line in lines if line and line.strip())


def header(step: Step, tool_note: str = "") -> str:
    """`// Step N (phase): title` plus, for a step outside a transaction, why."""
    lines = [step_label(step), "Written by flux."]
    if not step.transactional:
        lines.append("Runs outside a transaction (CONCURRENTLY or a batched backfill that commits as it goes); "
                     "each statement is its own query." + (f" {tool_note}" if tool_note else ""))
    return comment_lines(*lines)


def ms(now: datetime) -> int:
    return int(utc(now).timestamp() * 1000)


def numeric_prefixes(folder: Path, pattern: str = r"(\d+)") -> list[str]:
    """The leading digit runs of the file names in `folder`."""
    if not folder.is_dir():
        return []
    rx = re.compile(pattern)
    return [m.group(1) for name in os.listdir(folder) if (m := rx.match(name))]


def first_ms(folder: Path, now: datetime, digits: int = 13) -> int:
    """A millisecond stamp after every `digits`-digit stamp starting a file name
    in `folder`, and not before `now`."""
    taken = [int(p) for p in numeric_prefixes(folder) if len(p) == digits]
    return max([ms(now)] + [t + 1 for t in taken])


def pascal(slug_text: str) -> str:
    """`add_column_users_x` -> `AddColumnUsersX`; starts with a letter."""
    name = "".join(part[:1].upper() + part[1:] for part in slug_text.split("_") if part)
    return name if name[:1].isalpha() else f"M{name}"


def package_type(project_dir: Path, folder) -> str | None:
    """The `"type"` of the nearest package.json, from the migrations folder up to the project."""
    for d in folders_up(project_dir, folder):
        pkg = d / "package.json"
        if pkg.is_file():
            try:
                return json.loads(pkg.read_text(encoding="utf-8")).get("type")
            except (OSError, ValueError, AttributeError):
                return None
    return None


def suffix(project_dir: Path, folder) -> str:
    """`.cjs` when the nearest package.json (from the migrations folder up to
    the project) says `"type": "module"`, where a `.js` file could not use
    `exports`; else `.js`."""
    return ".cjs" if package_type(project_dir, folder) == "module" else ".js"


@dataclass(frozen=True)
class ModuleForm:
    """How a migration file is written: its extension, `export` syntax (ES module, or TypeScript)
    rather than `module.exports`, and TypeScript types."""

    ext: str = ".js"
    esm: bool = False
    ts: bool = False
    type_imports: bool = False  # `import type { ... }` for names used as types only, as the project's files do


_EXTS = (".ts", ".mts", ".cts", ".js", ".cjs", ".mjs")


def newest_migration(here: Path, exts: tuple[str, ...]) -> str:
    """The name of the folder's newest migration with one of `exts` (by name: they start with their
    number), type declarations aside; "" where it has none."""
    names = sorted(n for n in os.listdir(here) if n.endswith(exts) and not n.endswith(".d.ts")
                   and n[:1].isdigit()) if here.is_dir() else []
    return names[-1] if names else ""


def module_form(project_dir: Path, folder, exts: tuple[str, ...] = (".ts", ".js", ".cjs", ".mjs"),
                default_ts: bool = False, cjs_in_module: bool = True) -> ModuleForm:
    """The form of the newest migration in the folder (by name; `exts` are the ones the tool runs),
    else `.ts` when `default_ts`, else `.js`. In an ES-module package a `.js` becomes `.cjs` with
    `exports.` when `cjs_in_module` (it runs whatever the other files do), else an ES module."""
    newest = newest_migration(Path(project_dir) / folder, exts)
    if newest:
        ext = next(e for e in sorted(exts, key=len, reverse=True) if newest.endswith(e))
    else:
        ext = ".ts" if default_ts else ".js"
    if ext == ".js" and cjs_in_module and package_type(project_dir, folder) == "module":
        ext = ".cjs"
    return form_of(project_dir, folder, ext)


def form_of(project_dir: Path, folder, ext: str) -> ModuleForm:
    """The form a file with `ext` takes in this package."""
    module = package_type(project_dir, folder) == "module"
    ts = ext in (".ts", ".mts", ".cts")
    return ModuleForm(ext, ts or ext == ".mjs" or (ext == ".js" and module), ts)


def has_tsconfig(project_dir: Path, folder) -> bool:
    """A tsconfig.json in the migrations folder or any folder up to the project."""
    return any((d / "tsconfig.json").is_file() for d in folders_up(project_dir, folder))
