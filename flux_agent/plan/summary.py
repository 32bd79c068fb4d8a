"""The deployment summary a person (or a model) reads before running a plan.

Shape follows the seed skill: a box, the deployment sequence, the rollback
order and a pre-deploy checklist, never more than MAX_LINES lines as shown.
Nothing is cut mid-word: with no width (pipes, JSON, MCP and agent results)
every line stays whole; with a width (a terminal) lines wrap at spaces with a
hanging indent, and a file name or `code span` never breaks. The output is a
pure function of the Plan, the width and the surface, so tests can compare it.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from contextvars import ContextVar
from typing import TYPE_CHECKING, Iterator, Optional

from .summary_lines import file_atoms, glue, item, words, wrap

if TYPE_CHECKING:  # models imports this module to derive Plan.summary
    from ..model.plan import Plan, Step

MAX_LINES = 40

# Who reads the text: "cli" (a person at the `flux` command) or "tools" (a model
# calling the MCP or agent tools), so each next action names something that reader
# can do. Set by mcp_server and agent around a tool call; the CLI keeps the default.
SURFACE: ContextVar[str] = ContextVar("flux_surface", default="cli")
_ACTIONS = {
    "continue": {"cli": "`flux continue`", "tools": "write_migration with continue_pending: true"},
    "verify": {"cli": "`flux verify`", "tools": "verify_migration"},
    "status": {"cli": "`flux status`", "tools": "migration_status"},
    "all steps": {"cli": "`flux plan --json`", "tools": "the plan's steps"},
    "write": {"cli": "`flux plan --write`", "tools": "write_migration with a plan_id"},
    "verify a change": {"cli": "--op", "tools": "a plan_id"},
}


def action(name: str) -> str:
    """How the reader on the current surface does `name` ("continue", "verify", ...)."""
    return _ACTIONS[name]["tools" if SURFACE.get() == "tools" else "cli"]


def instruction(name: str) -> str:
    """`action` as an imperative: "run `flux continue`", "call write_migration with continue_pending: true"."""
    return f"{'call' if SURFACE.get() == 'tools' else 'run'} {action(name)}"


@contextmanager
def surface(name: str) -> Iterator[None]:
    token = SURFACE.set(name)
    try:
        yield
    finally:
        SURFACE.reset(token)


# How each tool runs a statement outside a transaction (REFERENCE.md section 2),
# worded for the checklist line.
NO_TRANSACTION_HOW = {
    "sql": "their files say `-- migrate:up transaction:false`",
    "dbmate": "their files say `-- migrate:up transaction:false`",
    "prisma": "each sits alone in its own migration, since prisma has no switch",
    "alembic": "inside `op.get_context().autocommit_block()`",
    # where the folder keeps snapshots, the journal entry Flux writes after a by-hand file (NNNN_flux_check_)
    # fails until that file ran: said, so its failure is no surprise (write/tools/drizzle.py)
    "drizzle": "apply their `_manual_` files with psql, outside drizzle (it wraps pending migrations in one "
               "transaction), before `drizzle-kit migrate` runs the entries after them (any `_flux_check_` "
               "entry after them fails until they have run)",
    "typeorm": "`transaction = false`, run with `migration:run --transaction each` (the application's own "
               "`runMigrations()` too: --write gives a bare call `{ transaction: 'each' }`)",
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

# --- sections ----------------------------------------------------------------------------------

def _box(plan: Plan, width: Optional[int]) -> list[str]:
    desc = " ".join(plan.description.split()) or "(no description)"
    body = f"Steps: {len(plan.steps)} │ Type: {plan.type}"
    refusals = _refusals(plan)
    if refusals:  # the box is what a reader takes in first: "safe" alone would say the opposite
        body += f" │ REFUSED: {len(refusals)} error{'s' if len(refusals) > 1 else ''}"
    head = f"┌─ Migration: {desc} "
    if width is None or len(head) + 2 <= width:
        size = max(len(head) + 2, len(body) + 4)  # +2: at least one ─ and the ┐
        return [head + "─" * (size - len(head) - 1) + "┐",
                "│ " + body.ljust(size - 4) + " │",
                "└" + "─" * (size - 2) + "┘"]
    # The description does not fit the top edge: it wraps inside the box.
    rows = [*wrap(words(desc), max(width - 4, 1)), *wrap(words(body), max(width - 4, 1))]
    top = "┌─ Migration "
    size = max(len(top) + 2, *(len(r) + 4 for r in rows))
    return [top + "─" * (size - len(top) - 1) + "┐",
            *("│ " + r.ljust(size - 4) + " │" for r in rows),
            "└" + "─" * (size - 2) + "┘"]


def _refusals(plan: Plan) -> list:
    """The plan's error findings: `--write` writes nothing while there is one (entry/cli.py)."""
    return [f for f in plan.findings if f.severity == "error"]


def written_later(plan: Plan) -> frozenset[int]:
    """The database steps `flux plan --write` leaves to `flux continue` (write/deploy_groups.py:
    after a code deploy, or where a group must stop): their files are named when they are written
    (a later time stamp, the next free number), so the names layout gave them now are not shown."""
    if not any(s.files for s in plan.steps):
        return frozenset()  # before layout: no step is named yet
    from ..errors import FluxInputError
    from ..write.deploy_groups import first_group  # loaded here: it loads this module

    try:
        now = {s.number for s in first_group(plan)}
    except FluxInputError:  # a tool Flux has no writer for: nothing is written at all
        return frozenset()
    return frozenset(s.number for s in plan.steps if not s.is_code and s.number not in now)


def _what(step: Step, later: frozenset[int]) -> list[str]:
    if step.is_code:
        return words("deploy the application change")
    if step.number in later:
        return words(f"written by {action('continue')}")
    if step.files:
        return file_atoms(step.files)
    return words(f"{step.phase} migration")  # before layout assigned a file


def _lock(step: Step) -> str:
    lock = "no lock" if step.lock == "none" else step.lock
    return f"{lock} ({step.lock_note})" if step.lock_note else lock


def _step_lines(step: Step, width: Optional[int], later: frozenset[int]) -> list[str]:
    atoms = glue("—", _what(step, later), words(step.title), words(_lock(step)))
    if step.risk and step.risk.strip():
        atoms = glue("·", atoms, words(step.risk))
    if not step.transactional and not step.is_code:
        atoms += ["(no", "transaction)"]
    return item(f"{step.number}. ", atoms, width)


def _undoable(plan: Plan) -> list[Step]:
    return [s for s in reversed(plan.steps) if s.rollback.strip() or s.down_sql]


def _rollback_full(plan: Plan, width: Optional[int], later: frozenset[int]) -> list[str]:
    lines = []
    for s in _undoable(plan):
        if s.rollback.strip():
            what = words(s.rollback)
        elif s.files and s.number not in later:
            what = words("run the down block of") + file_atoms(s.files)
        else:
            what = words(f"run the down SQL of step {s.number}")
        loss = words(f"data loss: {'yes' if s.data_loss_on_rollback else 'no'}")
        lines += item(f"{s.number}. ", glue("—", what, loss), width)
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
    return ", ".join(parts)


def _rollback_short(plan: Plan, width: Optional[int]) -> list[str]:
    steps = _undoable(plan)
    if not steps:
        return ["nothing to undo"]
    loss = [s.number for s in steps if s.data_loss_on_rollback]
    texts = ["undo in this order, each step's down block: " + _numbers([s.number for s in steps]),
             "data loss on rollback: " + (("steps " + _numbers(loss)) if loss else "none")]
    return [line for text in texts for line in wrap(words(text), width, 2)]


def _conditional_checks(plan: Plan) -> list[str]:
    checks = []
    if any(not s.transactional and not s.is_code for s in plan.steps):
        how = NO_TRANSACTION_HOW.get(plan.tool, "the tool's no-transaction switch")
        checks.append(f"non-transactional steps run outside a transaction: {how}")
    code = [str(s.number) for s in plan.steps if s.is_code]
    if code:
        checks.append(f"deploy the application change (step {', '.join(code)}), "
                      f"then {action('continue')} writes the steps after it")
    # alembic's env.py is a runner setting, said on its own line below, not a model change
    runner = {c.path for c in plan.code_changes if plan.tool == "alembic" and c.path.endswith("env.py")}
    late = sorted({c.path for c in plan.code_changes if c.applied_when_written and c.patch})
    kept = {c.path for c in plan.code_changes if c.applied_at_step is not None and c.patch}
    yours = sorted({c.path for c in plan.code_changes if not c.applied_by_flux and c.patch} - runner - set(late))
    # No patch: what to do is the code change's why (a model edit to make by hand; Rails' schema dump,
    # which `db:migrate` writes again: "by hand" would say the opposite of it)
    by_hand = {c.path: c.why for c in plan.code_changes if not c.applied_on_write and not c.patch and c.path not in runner}
    if yours:  # a plan with no deploy step of its own: with the migration's, as the ORM's own would be
        when = "with the application change" if code else "with the migration (the plan has no deploy step)"
        if code and plan.tool == "django":  # the migrations --write writes carry its state operations
            when += ", in one commit with the migrations `--write` writes"
        checks.append(f"apply the model changes ({', '.join(yours)}) {when}, so the ORM agrees with the database")
    if late and set(late) <= kept:  # a schema file kept to the migrations written (Drizzle's)
        checks.append(f"{', '.join(late)}: each write keeps it to what the migrations written so far leave; "
                      "the last one gives it its final form")
    elif late:  # a schema file that describes the database once the contract ran
        checks.append(f"{', '.join(late)}: {action('continue')} edits it as it writes the last step; "
                      "run no schema generator on it before then")
    checks += [f"{path}: {why}" for path, why in sorted(by_hand.items())]
    if runner:  # a setting the files depend on (prisma's schema edit needs no word)
        checks.append(f"{', '.join(sorted(runner))}: each revision in its own transaction (transaction_per_"
                      "migration=True; --write adds it where it can, its code change says where else), or one "
                      "step's lock lasts through the steps after it")
    swapped = [o for o in plan.operations if o.op == "change_column_type"] if plan.type == "expand-contract" else []
    if swapped:
        # PostgreSQL refuses a statement prepared before the swap once per connection: its result
        # type changed. Seen in the key-family benchmark with prepared statements on.
        checks.append(
            "after the swap, statements the application prepared before it fail with \"cached plan must not "
            "change result type\" until prepared again (some drivers, Rails among them, do that after a failure; "
            "psycopg does not): reset or recycle the connection pool right after the swap"
        )
    if any(_unguarded_build(s) for s in plan.steps):
        checks.append(f"if a concurrent index build fails, {plan.tool} cannot drop the INVALID index it leaves "
                      f"when run again: {instruction('status')} for the exact fix")
    retried = [s for s in plan.steps if s.lock_retry is not None]
    if retried:
        from .estimate import duration_text

        r = retried[0].lock_retry
        checks.append(
            (f"steps {', '.join(str(s.number) for s in retried)} each wait" if len(retried) > 1
             else f"step {retried[0].number} waits")
            + f" at most {r.wait_ms} ms per try for a lock and {'retry' if len(retried) > 1 else 'retries'} "
            f"({r.tries} tries, up to "
            f"{duration_text(r.worst_wait_ms / 1000)}); still refused, a step changes nothing: run it again "
            "when the table is quieter"
        )
    elif any(s.lock == "ACCESS EXCLUSIVE" for s in plan.steps):
        checks.append(
            "lock_timeout is set so a blocked lock gives up instead of queueing reads and writes; retry on timeout"
        )
    return checks + _managed_checks(plan)


def _managed_checks(plan: Plan) -> list[str]:
    """What a managed server or a transaction pooler refuses (flux_agent.pg.managed, .pooler):
    one line per kind, said only when a step's SQL has it."""
    from ..pg.parse import HAVE_PGLAST

    if not HAVE_PGLAST:
        return []
    from ..pg import managed

    sqls = [(s.number, sql) for s in plan.steps for sql in (s.guard_sql, s.up_sql, s.down_sql) if sql]
    checks = []
    first: dict[str, int] = {}
    for n, sql in sqls:
        for e in _concerns(sql)[0]:
            first.setdefault(e, n)
    missing = [f"{e} (step {n}; not on {', '.join(managed.not_offered(e))})" for e, n in first.items()
               if managed.not_offered(e)]
    if missing:
        checks.append("extension outside a managed provider's usual allow-list: " + "; ".join(missing)
                      + ": check the provider's list, create it ahead with its admin role")
    for kind, verbs, what in (
        (1, ("needs", "need"), "a superuser, which managed servers do not grant"),
        (2, ("keeps", "keep"),
         "session state past the transaction, which PgBouncer in transaction mode hands to the next client"),
    ):
        hits = [(n, line) for n, sql in sqls for line in _concerns(sql)[kind]]
        if hits:
            steps = sorted({n for n, _ in hits})
            who = f"step {steps[0]} {verbs[0]}" if len(steps) == 1 else \
                f"steps {', '.join(map(str, steps))} {verbs[1]}"
            checks.append(f"{who} {what}: {hits[0][1]}" + (f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""))
    return checks


def _unguarded_build(step: Step) -> bool:
    """A CREATE INDEX CONCURRENTLY without the guard that would heal a failed run (its tool sends a
    file as one query, so the layout dropped it)."""
    from ..pg.parse import HAVE_PGLAST
    from ..pg.split import split_statements

    if step.transactional or step.guard_sql or not step.up_sql or not HAVE_PGLAST:
        return False
    return any(type(s.node).__name__ == "IndexStmt" and s.node.concurrent for s in split_statements(step.up_sql))


@lru_cache(maxsize=1024)  # the summary tries up to four layouts, each asking again
def _concerns(sql: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(extensions used, superuser-only forms, session state) of one step's SQL."""
    from ..pg import managed, pooler

    return (tuple(managed.extensions_used(sql)), tuple(managed.superuser_needs(sql)),
            tuple(pooler.session_state(sql)))


def _checklist(plan: Plan, short: bool, width: Optional[int]) -> list[str]:
    verify = action("verify")
    if short:
        base = [f"backup verified · tested on production-size data ({verify}) · off-peak · "
                "connection pool headroom"]
    else:
        base = [
            "backup verified and a restore tested",
            f"tested against a copy of production-size data, not ten rows ({verify} runs the steps on a "
            "scratch database)",
            "not deploying during peak traffic",
            "connection pool has headroom for the migration's connection",
        ]
    return [line for text in _refusal_check(plan) + base + _conditional_checks(plan)
            for line in item("[ ] ", words(text), width)]


def _refusal_check(plan: Plan) -> list[str]:
    """The checklist's first line where the plan is refused: nothing after it matters until it is fixed."""
    refusals = _refusals(plan)
    if not refusals:
        return []
    first = refusals[0]
    where = f"step {first.step}: " if first.step is not None else ""
    more = f" (and {len(refusals) - 1} more in the plan's findings)" if len(refusals) > 1 else ""
    return [f"fix what refuses the plan, nothing is written until then: {where}{first.rule}: "
            f"{' '.join(first.message.split())}{more}"]


def _assemble(box: list[str], steps: list[str], rollback: list[str], checks: list[str], gaps: bool) -> list[str]:
    sections = [box, ["Deployment Sequence", *steps], ["Rollback", *rollback], ["Pre-Deploy Checklist", *checks]]
    lines: list[str] = []
    for i, section in enumerate(sections):
        if gaps and i:
            lines.append("")
        lines.extend(section)
    return lines


def summary(plan: Plan, width: Optional[int] = None) -> str:
    """The deployment summary, at most MAX_LINES lines as shown, deterministic.

    width None: every line whole (pipes, JSON, MCP and agent results). A width
    (a terminal's columns): lines wrap at spaces to fit it, and count as shown."""
    if width is not None:
        width = max(int(width), 1)
    box = _box(plan, width)
    later = written_later(plan)
    blocks = [_step_lines(s, width, later) for s in plan.steps]
    steps = [line for block in blocks for line in block]
    full_rb, short_rb = _rollback_full(plan, width, later), _rollback_short(plan, width)
    # Cheapest loss first: the checklist wording, then per-step rollback
    # detail, then blank lines. Step lines are the last thing to give up.
    for rollback, short_checks, gaps in (
        (full_rb, False, True),
        (full_rb, True, True),
        (short_rb, True, True),
        (short_rb, True, False),
    ):
        lines = _assemble(box, steps, rollback, _checklist(plan, short_checks, width), gaps)
        if len(lines) <= MAX_LINES:
            return "\n".join(lines)
    # So many steps that even the compact form overflows: keep the checklist,
    # show as many whole steps as fit and say how many are left out.
    checks = _checklist(plan, True, width)
    room = MAX_LINES - len(_assemble(box, [], short_rb, checks, False))
    shown: list[str] = []
    for n, block in enumerate(blocks):
        rest = len(blocks) - n - 1  # a later block that does not fit needs the line saying so
        if len(shown) + len(block) + (len(_more(rest, width)) if rest else 0) > room:
            shown += _more(rest + 1, width)
            break
        shown += block
    return "\n".join(_assemble(box, shown, short_rb, checks, False)[:MAX_LINES])


def _more(count: int, width: Optional[int]) -> list[str]:
    return wrap(words(f"({count} more steps not shown: see {action('all steps')})"), width, 1)
