"""Loads the rules: one module per rule, named after its id (dashes become underscores),
each declaring `RULE = Rule(...)` (see _rule.py) and defining its checks. Modules whose name
starts with `_` are helpers. Rule ids shared with squawk mean the same thing as in squawk.
The rules read pglast's trees: where pglast is missing (Windows) none is loaded, and the
engine says so instead of judging (lint/engine.py)."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Iterable

from pydantic import ValidationError

from ...errors import FluxInternalError
from ...pg.parse import HAVE_PGLAST
from ._rule import Rule

_HOOKS = ("check", "check_file", "check_text")


def load(package: str, path: Iterable[str]) -> list[Rule]:
    """The rules of `package`, their checks bound; refuses a module without a declaration,
    with an id other than its file name, or with no check."""
    rules: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(list(path)), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        try:
            mod = importlib.import_module(f"{package}.{info.name}")
        except ValidationError as exc:  # a declaration that fails its model is Flux's bug, not bad input
            raise FluxInternalError(f"rule module {info.name}: {exc}") from None
        rule = getattr(mod, "RULE", None)
        if not isinstance(rule, Rule):
            raise FluxInternalError(f"rule module {info.name} declares no RULE = Rule(...)")
        if rule.id != info.name.replace("_", "-"):
            raise FluxInternalError(f"rule module {info.name} declares id {rule.id!r}")
        hooks = {name: getattr(mod, name) for name in _HOOKS if callable(getattr(mod, name, None))}
        if not hooks:
            raise FluxInternalError(f"rule module {info.name} defines none of {', '.join(_HOOKS)}")
        rules.append(rule.model_copy(update=hooks))
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):  # file names are unique, so this holds unless the loader changes
        raise FluxInternalError(f"rule ids declared twice: {sorted({i for i in ids if ids.count(i) > 1})}")
    return rules


# The one place the rule modules are imported, and only where pglast is there to import them.
RULES: list[Rule] = load(__name__, __path__) if HAVE_PGLAST else []
BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
