"""What `flux verify` found, as data (the MCP tool's output) and as text (the CLI's)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

Direction = Literal["forward", "rollback", "forward-again"]


class StepResult(BaseModel):
    number: int
    phase: str = Field(description="the step's phase in the plan: migrate, expand, backfill, code, contract")
    title: str
    direction: Direction
    ok: bool
    error: Optional[str] = Field(None, description="PostgreSQL's error message, exactly")
    sqlstate: Optional[str] = None
    detail: Optional[str] = Field(None, description="PostgreSQL's DETAIL, HINT and CONTEXT, when given")
    seconds: float = 0.0
    lock: str = Field("", description="the lock the plan says the step takes")
    observed_lock: Optional[str] = Field(
        None, description="the strongest lock per table seen in pg_locks while (or when) the step ran")
    worst_ms: Optional[float] = Field(None, description="--load: slowest application query during the step")
    p99_ms: Optional[float] = None
    ops: int = Field(0, description="--load: application queries that started during the step")
    errors: int = Field(0, description="--load: application queries that failed during the step")
    error_samples: list[str] = Field(default_factory=list)
    note: str = ""


class VerifyReport(BaseModel):
    plan: str = Field(description="the plan's description")
    source: str = Field(description="where the plan came from: a pending plan record or the given operations")
    database: str = Field(description="where it ran")
    rows: int = Field(description="synthetic rows per table")
    seeded: dict[str, int] = Field(default_factory=dict)
    load: bool = False
    steps: list[StepResult] = Field(default_factory=list)
    lost_writes: int = Field(0, description="--load: rows whose last written value was not there afterwards")
    lost_write_samples: list[str] = Field(default_factory=list)
    checked_writes: int = Field(0, description="--load: application writes whose value was looked up afterwards")
    problems: list[str] = Field(
        default_factory=list, description="what a finished run left wrong: after a forward run, columns unlike the "
        "planned schema, lost rows, values the plan sets missing; after the rollback, any difference from the "
        "catalog before the plan (columns, indexes, constraints, triggers, views, sequences, types) and data the "
        "plan declares no loss of")
    traffic_errors: int = 0
    notes: list[str] = Field(default_factory=list)
    failure: Optional[str] = Field(None, description="one line: what failed first")
    seconds: float = 0.0
    ok: bool = False


def _ms(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.1f}"


def render_report(report: VerifyReport) -> str:
    lines = [f"Verify: {report.plan}",
             f"  plan from {report.source}",
             f"  on {report.database}, {report.rows} synthetic rows per table"
             + (", with application traffic (--load)" if report.load else "")]
    if report.seeded:
        lines.append("  seeded: " + ", ".join(f"{t} {n}" for t, n in report.seeded.items()))
    lines.append("")
    head = f"{'step':>4}  {'direction':<13} {'phase':<9} {'result':<6} {'seconds':>8}  lock (planned -> observed)"
    if report.load:
        head += "  | traffic worst/p99 ms, ops, errors"
    lines.append(head)
    for s in report.steps:
        result = "ok" if s.ok else "FAILED"
        observed = s.observed_lock or ("-" if s.phase == "code" else "not observed")
        row = (f"{s.number:>4}  {s.direction:<13} {s.phase:<9} {result:<6} {s.seconds:>8.3f}  "
               f"{s.lock or 'none'} -> {observed}")
        if report.load:
            row += f"  | {_ms(s.worst_ms)}/{_ms(s.p99_ms)}, {s.ops}, {s.errors}"
        lines.append(row)
        lines.append(f"{'':>6}{s.title}" + (f" ({s.note})" if s.note else ""))
        if s.error:
            lines.append(f"{'':>6}ERROR: {s.error}" + (f" [SQLSTATE {s.sqlstate}]" if s.sqlstate else ""))
            if s.detail:
                lines.extend(f"{'':>8}{line}" for line in s.detail.splitlines())
        for sample in s.error_samples:
            lines.append(f"{'':>6}traffic error: {sample}")
    if report.load:
        lines.append("")
        lines.append(f"Data check: {report.lost_writes} lost write(s) of {report.checked_writes} checked; "
                     f"{report.traffic_errors} failed application queries")
        lines.extend(f"  lost: {s}" for s in report.lost_write_samples)
    if report.problems:
        lines.append("")
        lines.extend(f"PROBLEM: {p}" for p in report.problems)
    if report.notes:
        lines.append("")
        lines.extend(f"note: {n}" for n in report.notes)
    lines.append("")
    if report.ok:
        lines.append(f"OK: every step ran forward, rolled back and ran forward again ({report.seconds:.1f}s); "
                     "each forward run left the planned columns and rows, the rollback the catalog from before.")
    else:
        lines.append(f"FAILED: {report.failure or 'see above'}")
    return "\n".join(lines)
