"""One module per operation, named after its `op` (helpers start with `_`). Each defines
validate(op, schema), plan(op, ctx) -> steps, apply(op, schema), which moves the working
schema on for the next operation, and describe(op), its title. Adding an operation is
adding its model to flux_agent/model/operations.py and its module here."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import get_args

from ...model.operations import Operation

_INTERFACE = ("validate", "plan", "apply", "describe")


def _load() -> dict[str, ModuleType]:
    kinds = {get_args(m.model_fields["op"].annotation)[0] for m in get_args(get_args(Operation)[0])}
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        missing = [f for f in _INTERFACE if not callable(getattr(module, f, None))]
        if info.name not in kinds or missing:
            raise ImportError(f"plan/ops/{info.name}.py is not an operation module "
                              f"({'no such op' if info.name not in kinds else 'lacks ' + ', '.join(missing)})")
        found[info.name] = module
    if set(found) != kinds:
        raise ImportError(f"operations without a module in plan/ops: {', '.join(sorted(kinds - set(found)))}")
    return found


OPS: dict[str, ModuleType] = _load()
