"""A plan's steps as a database shows them: each step applied, not applied or failed half-way,
read from the catalogs (catalog.py) and, where the tool keeps one, its migrations table; and the
one next action. A later step whose effects all hold means the steps before it ran (a contract
step undoes what expand made, so the earlier effects need not hold any more)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Optional

from ..model.plan import Step
from ..schema.drizzle_runs import BY_HAND
from ..schema.migration_files import is_down_file
from ..model.status import PlanStatus, StatusReport, StepStatus
from ..pg.quote import qname
from ..write.deploy_groups import PlanRecord, next_text
from .catalog import ROWS_CAP, Seen, rows_breaking, rows_left, seen
from .effects import Effect, step_effects


def from_record(record: PlanRecord) -> PlanStatus:
    """Without a database: which steps are written, and what comes next."""
    written = set(record.written)
    steps = [StepStatus(number=s.number, title=s.title, files=s.files,
                        state="deploy" if s.is_code else "written" if s.number in written else "not written")
             for s in record.plan.steps]
    return PlanStatus(id=record.id, description=record.plan.description, steps=steps,
                      next=_capital(next_text(record.plan, written)))


def from_database(record: PlanRecord, conn, applied_files: Optional[set[str]] = None) -> PlanStatus:
    """The steps as the database behind `conn` shows them; `applied_files`: the step files its
    migration tool records as run (None: the tool keeps no table Flux reads)."""
    plan = record.plan
    looked = {s.number: [(e, seen(conn, e)) for e in step_effects(s.up_sql)] for s in plan.steps if not s.is_code}
    for s in plan.steps:  # a batched backfill shows by the rows it has still to do, where its step says which
        if s.batching is not None and s.batching.pending and not looked.get(s.number):
            left = rows_left(conn, s.batching.table, s.batching.pending)
            if left is not None:
                looked[s.number] = [(Effect(kind="table", name=s.batching.table, want="present"),
                                     Seen(left == 0, _rows_text(left, s.batching.table)))]
    last = _last_started(plan.steps, looked)
    out, breaking = [], {}
    for step in plan.steps:
        facts = looked.get(step.number, [])
        status = StepStatus(number=step.number, title=step.title, files=step.files, state="deploy",
                            evidence=[f.text for _, f in facts] + _recorded(step, applied_files))
        if not step.is_code:
            status.state, status.fix = _state(step, facts, last)
            if status.state == "not applied":
                breaking[step.number] = _breaking(conn, facts)
                status.evidence += breaking[step.number]
        out.append(status)
    return PlanStatus(id=record.id, description=plan.description, steps=out,
                      next=_next(plan.steps, out, set(record.written), breaking))


def _last_started(steps: list[Step], looked: dict) -> int:
    """The last step the catalogs show has run, at least in part: one of its objects is there (or
    left INVALID), or all it removes is gone. A step that only removes what earlier steps of the
    plan create looks done before those steps ran too: alone it proves nothing; it has run when all
    the steps up to it leave holds, and that shows an object there before the plan gone (a dropped
    column's set-aside copy: the drop leaves neither the column nor the copy)."""
    created: set[tuple] = set()
    left: dict[tuple, tuple[Effect, Seen]] = {}  # each object as the steps so far leave it
    existed: set[tuple] = set()  # objects the plan removes before making them: there before it
    last = 0
    for step in steps:
        facts = looked.get(step.number, [])
        for e, f in facts:
            if e.want == "absent" and _key(e) not in created:
                existed.add(_key(e))
            left[_key(e)] = (e, f)
        shown = any(f.holds and e.want != "absent" for e, f in facts) or any(f.invalid_index for _, f in facts)
        trivial = all(e.want == "absent" and _key(e) in created for e, _ in facts)
        if shown or (facts and not trivial and all(f.holds for _, f in facts)):
            last = step.number
        elif facts and all(f.holds for _, f in left.values()) and any(
                k in existed and e.want == "absent" for k, (e, _) in left.items()):
            last = step.number
        created |= {_key(e) for e, _ in facts if e.want != "absent"}
    return last


def _key(effect) -> tuple:
    return effect.kind, effect.table if effect.kind in ("column", "trigger", "constraint") else None, effect.name


def _state(step: Step, looked: list[tuple[Effect, Seen]], last: int) -> tuple[str, str]:
    facts = [f for _, f in looked]
    invalid = [e.name for e, f in looked if f.invalid_index and not f.holds]
    if invalid:
        if step.guard_sql:  # its files drop the leftover themselves before building again
            return "failed half-way", (f"run step {step.number} again (its migration, as the tool runs it): it "
                                       f"drops the INVALID index {', '.join(invalid)} first and builds it anew")
        drops = " ".join(f"DROP INDEX CONCURRENTLY IF EXISTS {qname(n)};" for n in invalid)
        return "failed half-way", f"{drops} then run step {step.number} again"
    if step.number < last or (step.number == last and all(f.holds for f in facts)):
        return "applied", ""
    if step.number == last:
        missing = "; ".join(f.text for f in facts if not f.holds)
        return "failed half-way", f"the catalogs show part of step {step.number} ({missing}): finish it by hand"
    return ("unknown", "") if not facts else ("not applied", "")


def _breaking(conn, facts: list[tuple[Effect, Seen]]) -> list[str]:
    """What keeps a validation step from running: the rows breaking each NOT VALID constraint it
    validates (a step run as is fails on them again, changing nothing), as "N rows of t that break c"."""
    out = []
    for e, f in facts:
        if e.kind == "constraint" and e.want == "validated" and not f.holds:
            count = rows_breaking(conn, e.table, e.name)
            if count:
                out.append(f"{'at least ' if count >= ROWS_CAP else ''}{count:,} row{'' if count == 1 else 's'} "
                           f"of {e.table} that break {e.name}")
    return out


def _rows_text(left: int, table: str) -> str:
    if left == 0:
        return f"no row of {table} left to do"
    return f"{'at least ' if left >= ROWS_CAP else ''}{left:,} row(s) of {table} still to do"


def _recorded(step: Step, applied_files: Optional[set[str]]) -> list[str]:
    if applied_files is None or not step.files:
        return []
    return [f"{f} is {'recorded' if f in applied_files else 'not recorded'} as run by the migration tool"
            for f in step.files]


def _next(steps: list[Step], states: list[StepStatus], written: set[int],
          breaking: Optional[dict[int, list[str]]] = None) -> str:
    last_applied = max((s.number for s in states if s.state == "applied"), default=0)
    for step, status in zip(steps, states):
        if status.state == "failed half-way":
            return f"Finish step {step.number}: {status.fix}."
        if step.number <= last_applied or status.state == "applied":
            continue
        if step.is_code:
            after = next((s for s in steps if s.number > step.number and not s.is_code), None)
            then = ("run `flux continue` for the steps after it" if after is None or after.number not in written
                    else f"run step {after.number} (written already) with the project's migration tool")
            return f"Deploy the application change of step {step.number} ({step.title}), then {then}."
        if step.number not in written:
            return f"Run `flux continue` to write step {step.number} ({step.title})."
        ups = [f for f in step.files if not is_down_file(f)]  # its down files undo it, not run it
        where = f" ({', '.join(ups)})" if ups else ""
        rows = (breaking or {}).get(step.number)
        if status.state == "not applied" and rows:
            return (f"Fix the {'; the '.join(rows)} (a backfill, or delete them), then run step {step.number}"
                    f"{where}: run as is, it fails on them again.")
        if status.state == "not applied" and step.batching is not None and step.batching.pending:
            return (f"Run step {step.number}{where}: it does the rows still to do (a run stopped half-way "
                    "resumes where it stopped).")
        if status.state == "unknown":
            return (f"Run step {step.number}{where}: the catalogs cannot show whether it ran "
                    "(a batched backfill is safe to run again).")
        if ups and all(BY_HAND.match(PurePosixPath(f).name) for f in ups):
            # drizzle's migrator does not run a by-hand file (a CONCURRENTLY build outside its transaction)
            return f"Run step {step.number}{where} by hand (psql -f), outside the project's migration tool."
        return f"Run step {step.number}{where} with the project's migration tool."
    return "Nothing left: every step of the plan is applied."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def text_lines(report: StatusReport) -> list[str]:
    """`flux status` for a person: each plan's steps, each with its state, and the next action."""
    out = [f"Read from {report.database}" if report.database else
           "From the plan records alone (give --database-url to read what a database has applied)"]
    out += [f"Blocked: {report.blocked}"] if report.blocked else []
    for plan in report.plans:
        out += ["", f"plan {plan.id}: {plan.description}"]
        for step in plan.steps:
            out.append(f"  step {step.number}: {step.state:<15} {step.title}")
            out += [f"      fix: {step.fix}"] if step.fix else []
        out.append(f"Next: {plan.next}")
    return out
