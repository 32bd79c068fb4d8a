"""The deployment summary a person reads before running a plan.

Shape follows the seed skill: a box, the deployment sequence, the rollback
order and a pre-deploy checklist, never more than MAX_LINES lines. The output
is a pure function of the Plan, so tests and golden files can compare it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # models imports this module to derive Plan.summary
    from .models import Plan, Step

MAX_LINES = 40
_MAX_DESCRIPTION = 60  # keeps the box inside a normal terminal width
_MAX_TITLE = 90
_MAX_ROLLBACK = 110

# How each tool runs a statement outside a transaction (REFERENCE.md section 2),
# worded for the checklist line.
NO_TRANSACTION_HOW = {
    "sql": "their files say `-- migrate:up transaction:false`",
    "dbmate": "their files say `-- migrate:up transaction:false`",
    "prisma": "each sits alone in its own migration, since prisma has no switch",
    "alembic": "inside `op.get_context().autocommit_block()`",
    "drizzle": "apply them with psql outside drizzle, which wraps pending migrations in one transaction",
    "typeorm": "`transaction = false`, run with `migration:run --transaction each`",
    "knex": "`exports.config = { transaction: false }`",
    "rails": "`disable_ddl_transaction!` in their migrations",
    "golang-migrate": "each statement alone in its own file",
    "goose": "`-- +goose NO TRANSACTION` at the top of their files",
    "flyway": "`executeInTransaction=false` in a sibling .sql.conf",
    "django": "`atomic = False` on their Migration classes",
    "sequelize": "sequelize adds no transaction, so as written",
    "sqitch": "their deploy scripts have no BEGIN/COMMIT",
    "node-pg-migrate": "`pgm.noTransaction()` in their migrations",
}


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())  # one physical line, whatever the input held
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _box(plan: Plan) -> list[str]:
    head = f"┌─ Migration: {_clip(plan.description, _MAX_DESCRIPTION) or '(no description)'} "
    body = f"Steps: {len(plan.steps)} │ Type: {plan.type}"
    width = max(len(head) + 2, len(body) + 4)  # +2: at least one ─ and the ┐
    return [
        head + "─" * (width - len(head) - 1) + "┐",
        "│ " + body.ljust(width - 4) + " │",
        "└" + "─" * (width - 2) + "┘",
    ]


def _is_code(step: Step) -> bool:
    return step.phase == "code"


def _what(step: Step) -> str:
    if _is_code(step):
        return "deploy the application change"
    if step.files:
        return ", ".join(step.files)
    return f"{step.phase} migration"  # before layout assigned a file


def _lock(step: Step) -> str:
    lock = (step.lock or "none").strip()
    return "no lock" if lock.lower() == "none" else lock


def _step_line(step: Step) -> str:
    line = f"{step.number}. {_what(step)} — {_clip(step.title, _MAX_TITLE)} — {_lock(step)}"
    if step.risk:
        line += f" · {_clip(step.risk, 40)}"
    if not step.transactional and not _is_code(step):
        line += " (no transaction)"
    return line


def _undoable(plan: Plan) -> list[Step]:
    return [s for s in reversed(plan.steps) if s.rollback.strip() or s.down_sql]


def _rollback_full(plan: Plan) -> list[str]:
    lines = []
    for s in _undoable(plan):
        if s.rollback.strip():
            action = _clip(s.rollback, _MAX_ROLLBACK)
        elif s.files:
            action = f"run the down block of {', '.join(s.files)}"
        else:
            action = f"run the down SQL of step {s.number}"
        lines.append(f"{s.number}. {action} — data loss: {'yes' if s.data_loss_on_rollback else 'no'}")
    return lines or ["nothing to undo"]


def _numbers(nums: list[int]) -> str:
    """Descending step numbers with runs folded: [5, 4, 3, 1] -> "5–3, 1"."""
    parts, i = [], 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] - 1:
            j += 1
        parts.append(f"{nums[i]}–{nums[j]}" if j - i >= 2 else ", ".join(map(str, nums[i : j + 1])))
        i = j + 1
    return _clip(", ".join(parts), _MAX_ROLLBACK)


def _rollback_short(plan: Plan) -> list[str]:
    steps = _undoable(plan)
    if not steps:
        return ["nothing to undo"]
    loss = [s.number for s in steps if s.data_loss_on_rollback]
    return [
        "undo in this order, each step's down block: " + _numbers([s.number for s in steps]),
        "data loss on rollback: " + (("steps " + _numbers(loss)) if loss else "none"),
    ]


def _conditional_checks(plan: Plan) -> list[str]:
    checks = []
    if any(not s.transactional and not _is_code(s) for s in plan.steps):
        how = NO_TRANSACTION_HOW.get(plan.tool, "the tool's no-transaction switch")
        checks.append(f"non-transactional steps run outside a transaction: {how}")
    code = [str(s.number) for s in plan.steps if _is_code(s)]
    if code:
        checks.append(f"deploy the application change (step {', '.join(code)}), then `flux continue` writes the steps after it")
    if any("access exclusive" in (s.lock or "").lower() for s in plan.steps):
        checks.append(
            "lock_timeout is set so a blocked lock gives up instead of queueing reads and writes; retry on timeout"
        )
    return checks


def _checklist(plan: Plan, short: bool) -> list[str]:
    if short:
        base = ["[ ] backup verified · tested on production-size data (`flux verify`) · "
                "off-peak · connection pool headroom"]
    else:
        base = [
            "[ ] backup verified and a restore tested",
            "[ ] tested against a copy of production-size data, not ten rows (`flux verify` runs the steps on a scratch database)",
            "[ ] not deploying during peak traffic",
            "[ ] connection pool has headroom for the migration's connection",
        ]
    return base + [f"[ ] {c}" for c in _conditional_checks(plan)]


def _assemble(plan: Plan, steps: list[str], rollback: list[str], checks: list[str], gaps: bool) -> list[str]:
    sections = [
        _box(plan),
        ["Deployment Sequence", *steps],
        ["Rollback", *rollback],
        ["Pre-Deploy Checklist", *checks],
    ]
    lines: list[str] = []
    for i, section in enumerate(sections):
        if gaps and i:
            lines.append("")
        lines.extend(section)
    return lines


def summary(plan: Plan) -> str:
    """The deployment summary, at most MAX_LINES lines, deterministic."""
    steps = [_step_line(s) for s in plan.steps]
    full_rb, short_rb = _rollback_full(plan), _rollback_short(plan)
    # Cheapest loss first: the checklist wording, then per-step rollback
    # detail, then blank lines. Step lines are the last thing to give up.
    for rollback, short_checks, gaps in (
        (full_rb, False, True),
        (full_rb, True, True),
        (short_rb, True, True),
        (short_rb, True, False),
    ):
        lines = _assemble(plan, steps, rollback, _checklist(plan, short_checks), gaps)
        if len(lines) <= MAX_LINES:
            return "\n".join(lines)
    # So many steps that even the compact form overflows: keep the checklist,
    # show as many step lines as fit and say how many are left out.
    checks = _checklist(plan, True)
    room = MAX_LINES - len(_assemble(plan, [], short_rb, checks, False)) - 1
    shown = steps[: max(room, 0)]
    more = f"… {len(steps) - len(shown)} more steps (see `flux plan --json`)"
    return "\n".join(_assemble(plan, [*shown, more], short_rb, checks, False)[:MAX_LINES])
