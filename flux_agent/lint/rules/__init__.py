"""One module per validation rule, named after its rule id (dashes become
underscores). Each module defines:

    ID, SEVERITY ("error" | "warning"), MESSAGE (one line), HINT (one line)
    check(stmt, ctx) -> None | True | str      per statement; a str replaces MESSAGE
                     | (str, severity)          when the severity depends on the case
    check_file(ctx) -> list[(line, message)]   optional, for whole-file rules
                                               ((line, message, severity) also accepted)

Rule ids shared with squawk mean the same thing as in squawk.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def _load() -> list[ModuleType]:
    mods = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "ID"):
            mods.append(mod)
    return mods


RULES: list[ModuleType] = _load()
BY_ID: dict[str, ModuleType] = {m.ID: m for m in RULES}
