"""The edit to alembic's env.py that gives each revision its own transaction.

Alembic's default env.py runs every pending revision in one transaction
(`transaction_per_migration` is False), so a step's lock would last through the
steps after it: the NOT VALID constraint's ACCESS EXCLUSIVE through the next
revision's VALIDATE scan, a retried step's pauses holding the previous step's
locks. `context.configure(..., transaction_per_migration=True)` ends each
revision's transaction with it. Read and edited with `ast`, never run.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from ...model.plan import CodeChange
from ..code_changes import cannot, change
from ._py_edits import replace_node, with_kwarg

KEYWORD = "transaction_per_migration"


def _configure_calls(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == "configure" and isinstance(n.func.value, ast.Name) and n.func.value.id == "context"]


def _sets_it(call: ast.Call) -> bool:
    # Any explicit value counts: someone who wrote it False chose so.
    return any(k.arg == KEYWORD for k in call.keywords)


def _unpacked(call: ast.Call) -> Optional[ast.expr]:
    """What `configure(..., **args)` unpacks, where it unpacks one mapping (Flask-Migrate's online call:
    `**conf_args`, or redash's `**current_app.extensions['migrate'].configure_args`)."""
    found = [k.value for k in call.keywords if k.arg is None]
    return found[0] if len(found) == 1 else None


def env_change(project: Path, env_rel: str) -> Optional[CodeChange]:
    """The CodeChange adding transaction_per_migration=True to each `context.configure(...)` of
    env.py that lacks it (to a call that unpacks its arguments from elsewhere, as the default under
    them: `**{"transaction_per_migration": True, **args}`, so a value given there still wins and none is
    passed twice); None when every call has it (or sets it on purpose), or env.py is not there to read."""
    path = Path(project) / env_rel
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    missing = [c for c in _configure_calls(tree) if not _sets_it(c)]
    many = [c for c in missing if sum(k.arg is None for k in c.keywords) > 1]
    elsewhere = (f"; the call on line {', '.join(str(c.lineno) for c in many)} unpacks more than one mapping "
                 f"(**): set {KEYWORD}=True in them") if many else ""
    why = ("each revision in its own transaction: alembic otherwise runs every pending revision in one, "
           "and a step's lock would last through the steps after it (written with the revisions)" + elsewhere)
    calls = [c for c in missing if c not in many]
    if not calls:
        return None if not many else cannot(env_rel, why)
    # After each call's last argument (or inside empty parentheses), as the call is laid out; the
    # last call first, so earlier positions stay valid.
    for call in sorted(calls, key=lambda c: (c.end_lineno, c.end_col_offset), reverse=True):
        unpacked = _unpacked(call)
        if unpacked is not None:
            text = replace_node(text, unpacked, f'{{"{KEYWORD}": True, **{ast.get_source_segment(text, unpacked)}}}')
        else:
            text = with_kwarg(text, call, KEYWORD, "True")
    ast.parse(text)  # the edit must leave Python that parses
    return change(project, env_rel, text, why, applied_on_write=True)
