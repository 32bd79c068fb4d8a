"""The project's own row triggers that fire on the rows a plan's batched backfill updates: what they
write (an `updated_at`, an audit row) changes with the plan, and no rollback puts it back. Infisical
touches `updatedAt` on every table: a rename's backfill, then its rollback, moved it on every row,
while the plan said "data loss: no" (verify caught it). Said as a warning at the step."""

from __future__ import annotations

from typing import Optional

from ..model.plan import Finding, Step
from ..model.schema import Schema
from ..pg.parse import HAVE_PGLAST, ParseError, parse_sql

RULE = "backfill-fires-triggers"
_UPDATE = 1 << 4  # TRIGGER_TYPE_UPDATE in CreateTrigStmt.events
_BEFORE = 1 << 1  # TRIGGER_TYPE_BEFORE in CreateTrigStmt.timing


def _on_update(definition: str) -> Optional[str]:
    """`BEFORE UPDATE` or `AFTER UPDATE` for a row trigger firing on UPDATE; None otherwise (or unread)."""
    if not HAVE_PGLAST:
        return None
    try:
        stmt = parse_sql(definition)[0].stmt
    except (ParseError, IndexError):
        return None
    if not getattr(stmt, "row", False) or not (getattr(stmt, "events", 0) or 0) & _UPDATE:
        return None
    return "BEFORE UPDATE" if (stmt.timing or 0) & _BEFORE else "AFTER UPDATE"


def trigger_findings(steps: list[Step], schema: Schema) -> list[Finding]:
    """A warning for each batched backfill whose table has row triggers of the project's own (not the
    sync triggers Flux makes, flux_*) firing on UPDATE."""
    if schema.dependencies is None:
        return []
    out = []
    for step in steps:
        if step.batching is None:
            continue
        fired = [f"{d.name} ({when})" for d in schema.dependencies.on(step.batching.table)
                 if d.kind == "trigger" and not d.name.startswith("flux_") and (when := _on_update(d.definition))]
        if fired:
            out.append(Finding(rule=RULE, severity="warning", step=step.number, message=(
                f"the backfill of {step.batching.table} fires {', '.join(fired)} on every row it updates: what "
                f"{'they write' if len(fired) > 1 else 'it writes'} (a timestamp, an audit row) changes for every "
                "row, and no rollback puts it back; check that is acceptable, or disable it for the backfill "
                "by hand")))
    return out
