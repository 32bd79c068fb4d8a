"""Reads the naming_convention a project gives its SQLAlchemy MetaData, from the source (never
imported): `MetaData(naming_convention={...})`, the same with a module-level dict named there (in
that module or another), or `SQLModel.metadata.naming_convention = {...}`. The planner names what
it makes by it (plan/naming.py), as the project's own models name an index declared without one."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from ._py import source_files

_SKIP = {"node_modules", "site-packages", "venv", "env", "__pycache__", "versions"}
_WORD = "naming_convention"


def naming_convention(project: Path) -> Optional[dict[str, str]]:
    """The project's one convention of string patterns ({"ix": "ix_%(column_0_label)s", ...}); None
    where it declares none, where two places declare different ones (which MetaData a table belongs
    to is not read), or where a pattern is not a plain string (a callable token)."""
    trees = []
    for path in source_files(project, _SKIP):
        try:
            text = path.read_text(encoding="utf-8")
            if _WORD in text.lower():  # NAMING_CONVENTION = {...} too, whose user may be elsewhere
                trees.append(ast.parse(text))
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
    named = {name: value for tree in trees for name, value in _module_dicts(tree).items()}
    found: set[frozenset] = set()
    for tree in trees:
        for value in _given(tree):
            if isinstance(value, ast.Name):
                value = named.get(value.id)
            convention = _strings(value)
            if convention is None:
                return None  # one Flux cannot read: none rather than a guess
            found.add(frozenset(convention.items()))
    return dict(next(iter(found))) if len(found) == 1 else None


def _given(tree: ast.Module) -> list[ast.expr]:
    """The values the module gives as a naming_convention: a call's keyword, an attribute assigned."""
    out: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == _WORD:
            out.append(node.value)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == _WORD
                                                  for t in node.targets):
            out.append(node.value)
    return out


def _module_dicts(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level `NAME = {...}` assignments of dict literals."""
    return {t.id: st.value for st in tree.body if isinstance(st, ast.Assign) and isinstance(st.value, ast.Dict)
            for t in st.targets if isinstance(t, ast.Name)}


def _strings(node: Optional[ast.expr]) -> Optional[dict[str, str]]:
    if not isinstance(node, ast.Dict):
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError):  # a class as a key (Index: ...), a callable as a value
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return value
