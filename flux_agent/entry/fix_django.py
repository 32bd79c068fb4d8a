"""A Django migration `flux fix` replaced keeps its place in Django's migration state: the models
already say what it did (makemigrations wrote it from them), so the last of Flux's migrations
carries the original's operations as its state_operations, with the imports and the other apps'
dependencies they need, and no model edit is asked for. Without it makemigrations wrote the
original's changes again (paperless-ngx's AlterField db_index=True, its AddIndex)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Optional

from ..errors import FluxInternalError
from ..write.tools._py_edits import insert_after, replace_node, with_kwarg


def _migration_class(tree: ast.Module) -> ast.ClassDef:
    found = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Migration"), None)
    if found is None:
        raise FluxInternalError("a Django migration without a Migration class")
    return found


def _listed(cls: ast.ClassDef, name: str) -> ast.List | None:
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets) \
                and isinstance(node.value, (ast.List, ast.Tuple)):
            return node.value
    return None


def original_state(text: str) -> tuple[list[str], list[str], list[str]]:
    """(its operations, its dependencies, its imports), each as source: what the fixed file's state needs."""
    tree = ast.parse(text)
    cls = _migration_class(tree)
    ops, deps = _listed(cls, "operations"), _listed(cls, "dependencies")

    def sources(seq) -> list[str]:
        return [textwrap.dedent(" " * e.col_offset + ast.get_source_segment(text, e)).strip()
                for e in (seq.elts if seq is not None else [])]
    imports = [ast.get_source_segment(text, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    return sources(ops), sources(deps), imports


def carry_state(original: str, written: list[Path]) -> Optional[Path]:
    """Give the original's state to the written migration that carries the plan's state (else the
    last), in place of what it carried; the others' state is what Flux's steps change, none. The
    file changed, or None."""
    ops, deps, imports = original_state(original)
    files = [p for p in written if p.suffix == ".py" and p.name != "__init__.py"]
    if not files or not ops:
        return None
    carrier = next((p for p in files if _carries(p.read_text(encoding="utf-8"))), files[-1])
    text = carrier.read_text(encoding="utf-8")
    tree = ast.parse(text)
    cls = _migration_class(tree)
    run = next(e for e in _listed(cls, "operations").elts if isinstance(e, ast.Call))
    state = "[\n" + "".join(textwrap.indent(op, " " * 12) + ",\n" for op in ops) + " " * 8 + "]"
    text = with_kwarg(text, run, "state_operations", state)
    tree = ast.parse(text)
    have = _listed(_migration_class(tree), "dependencies")
    present = {ast.unparse(e) for e in have.elts}
    more = [d for d in deps if ast.unparse(ast.parse(d, mode="eval").body) not in present
            and not _same_app(d, have)]
    if more:
        items = [ast.get_source_segment(text, e) for e in have.elts] + more
        text = replace_node(text, have, "[\n" + "".join(f"        {i},\n" for i in items) + "    ]")
    tree = ast.parse(text)
    bound = _bound(n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))
    missing = [i for i in imports if not _bound(ast.parse(i).body) <= bound]
    if missing:
        last = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))][-1]
        text = insert_after(text, last, missing)
    ast.parse(text)
    carrier.write_text(text, encoding="utf-8")
    return carrier


def _same_app(dep: str, have: ast.List) -> bool:
    """A dependency on the app's own earlier migration: the written chain already follows it."""
    try:
        value = ast.literal_eval(dep)
    except (ValueError, SyntaxError):
        return False  # migrations.swappable_dependency(...) and the like: another app's, kept
    labels = set()
    for e in have.elts:
        try:
            labels.add(ast.literal_eval(e)[0])
        except (ValueError, SyntaxError, TypeError, IndexError):
            continue
    return isinstance(value, tuple) and value[:1] and value[0] in labels


def _carries(text: str) -> bool:
    """Does the migration's operations list have a call with state_operations (the writer's carrier)?"""
    ops = _listed(_migration_class(ast.parse(text)), "operations")
    return any(isinstance(e, ast.Call) and any(k.arg == "state_operations" for k in e.keywords)
               for e in (ops.elts if ops is not None else []))


def _bound(imports) -> set[tuple]:
    """What import statements bind: (module, name, as) of each."""
    out = set()
    for node in imports:
        if isinstance(node, ast.ImportFrom):
            out |= {(node.module, a.name, a.asname) for a in node.names}
        else:
            out |= {(None, a.name, a.asname) for a in node.names}
    return out
