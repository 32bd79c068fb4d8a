"""What the Python writers (alembic, django) share: text made safe for Python
source (comments, docstrings, literals), the module head every migration file
starts with, and reading existing migration files with `ast` (never running them).
"""

from __future__ import annotations

import ast
from pathlib import Path

from ...errors import FluxInputError
from ...model.plan import Step
from ..base import down_sql, one_line, step_label, up_sql


def comment_text(text: str) -> str:
    """One line that is safe inside a `#` comment."""
    return one_line("".join(ch if ch.isprintable() else " " for ch in text))


def doc_text(text: str) -> str:
    """One line that is safe inside a triple-double-quoted docstring."""
    return comment_text(text).replace("\\", "\\\\").replace('"', '\\"')


def py_literal(text: str) -> str:
    """A Python literal whose value is exactly `text`: a triple-quoted block that
    reads like the SQL when that is safe, repr() otherwise."""
    plain = all(ch.isprintable() or ch in "\n\t" for ch in text)
    if plain and "\\" not in text and "'''" not in text and not text.endswith("'"):
        return "'''\\\n" + text + "'''"  # the backslash-newline adds nothing to the value
    return repr(text)


def module_head(step: Step, about: list[str], imports: list[str]) -> list[str]:
    """The lines a migration module starts with: a docstring naming the step (then the
    `about` lines), the imports, and the step's SQL as UP_SQL (and DOWN_SQL when there
    is something to undo)."""
    up, down = up_sql(step), down_sql(step)
    lines = [f'"""{step_label(step, doc_text(step.title))}', "", *about, '"""', "", *imports, "",
             f"UP_SQL = {py_literal(up)}", ""]
    if down is not None:
        lines += [f"DOWN_SQL = {py_literal(down)}", ""]
    return lines


def module_assignments(tree: ast.Module, names: set[str]) -> dict[str, ast.expr]:
    """Top-level `name = value` and `name: type = value` for the given names."""
    out: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        else:
            continue
        if target in names:
            out[target] = value
    return out


def parse_file(path: Path, tool: str) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=path.name)
    except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
        raise FluxInputError(f"cannot read {tool} migration {path.name}: {one_line(str(exc))}") from None
