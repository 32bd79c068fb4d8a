"""Plans by id: plan_migration returns a plan_id, and write_migration and verify_migration
take it, so the operation schema is published (and the operations sent) once. The id names the
operations and options; what is written is planned again from them against the project as it is."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from ..errors import FluxInputError
from ..model.operations import Operation

_KEPT = 64  # the newest plans of this server process


@dataclass(frozen=True)
class Planned:
    project: Path
    operations: list[Operation]
    tool: Optional[str]
    pg_version: Optional[int]


_PLANS: "OrderedDict[str, Planned]" = OrderedDict()


def remember(project: Path, operations: Sequence[Operation], tool: Optional[str], pg_version: Optional[int]) -> str:
    ops = list(operations)
    key = json.dumps([str(project), [o.model_dump(mode="json") for o in ops], tool, pg_version], sort_keys=True)
    plan_id = "plan-" + hashlib.sha256(key.encode()).hexdigest()[:10]
    _PLANS[plan_id] = Planned(project, ops, tool, pg_version)
    _PLANS.move_to_end(plan_id)
    while len(_PLANS) > _KEPT:
        _PLANS.popitem(last=False)
    return plan_id


def recall(plan_id: str, project: Path) -> Planned:
    planned = _PLANS.get(plan_id)
    if planned is None:
        raise FluxInputError(f"unknown plan_id {plan_id[:40]!r}: call plan_migration (again) and pass the "
                             "plan_id it returns")
    if planned.project != project:
        raise FluxInputError(f"plan_id {plan_id!r} was planned for {planned.project}, not {project}")
    return planned
