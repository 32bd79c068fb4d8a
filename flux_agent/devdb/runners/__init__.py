"""One runner a program-code migration tool (flux_agent.devdb.program's Runner): each module
is named by its tool and holds RUNNER; discovered by file name."""

from __future__ import annotations

import importlib
import pkgutil

RUNNERS = {}
for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_"):
        _module = importlib.import_module(f"{__name__}.{_info.name}")
        RUNNERS[_info.name.replace("_", "-")] = _module.RUNNER
