import pytest

from flux_agent.model.plan import Plan, Step
from flux_agent.plan.summary import MAX_LINES, summary, surface, written_later


def rename_plan(**overrides) -> Plan:
    steps = [
        Step(number=1, phase="expand", title="Add column users.email_address",
             files=["db/migrations/20250101000000_add_email_address.sql"],
             up_sql="ALTER TABLE users ADD COLUMN email_address text;",
             down_sql="ALTER TABLE users DROP COLUMN email_address;",
             lock="ACCESS EXCLUSIVE", risk="brief"),
        Step(number=2, phase="backfill", title="Copy email into email_address",
             files=["db/migrations/20250101000001_copy.sql"],
             up_sql="UPDATE users SET email_address = email;", down_sql=None,
             lock="ROW EXCLUSIVE", risk="batched"),
        Step(number=3, phase="code", title="Read and write email_address",
             rollback="redeploy the previous application version"),
        Step(number=4, phase="contract", title="Drop column users.email",
             files=["db/migrations/20250101000002_drop_email.sql"],
             up_sql="ALTER TABLE users DROP COLUMN email;",
             down_sql="ALTER TABLE users ADD COLUMN email text;",
             rollback="re-add users.email empty; restore its data from backup",
             lock="ACCESS EXCLUSIVE", risk="brief", data_loss_on_rollback=True),
    ]
    data = dict(description="rename users.email to email_address", type="expand-contract",
                tool="dbmate", operations=[], steps=steps)
    data.update(overrides)
    return Plan(**data)


def index_plan() -> Plan:
    step = Step(number=1, phase="migrate", title="Create index on orders.customer_id",
                files=["db/migrations/20250101000000_idx.sql"],
                up_sql="CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);",
                down_sql="DROP INDEX CONCURRENTLY orders_customer_id_idx;",
                transactional=False, lock="SHARE UPDATE EXCLUSIVE", risk="no blocking")
    return Plan(description="index orders.customer_id", type="safe", tool="dbmate",
                operations=[], steps=[step])


def many_steps(n: int) -> Plan:
    steps = [
        Step(number=i, phase="expand", title=f"Step title number {i}",
             files=[f"db/migrations/2025010100{i:04d}_s{i}.sql"],
             up_sql="SELECT 1;", down_sql="SELECT 1;", lock="ACCESS EXCLUSIVE",
             transactional=(i % 3 != 0), data_loss_on_rollback=(i % 5 == 0))
        for i in range(1, n + 1)
    ]
    return Plan(description=f"{n} steps", type="expand-contract", tool="sql", operations=[], steps=steps)


def section(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(name) + 1
    out = []
    for line in lines[start:]:
        if line in ("", "Deployment Sequence", "Rollback", "Pre-Deploy Checklist"):
            break
        out.append(line)
    return out


def test_box_fits_its_text():
    lines = summary(rename_plan()).splitlines()
    assert lines[0].startswith("┌─ Migration: rename users.email to email_address ─")
    assert lines[0].endswith("┐")
    assert lines[1].startswith("│ Steps: 4 │ Type: expand-contract ") and lines[1].endswith(" │")
    assert lines[2] == "└" + "─" * (len(lines[0]) - 2) + "┘"
    assert len(lines[0]) == len(lines[1]) == len(lines[2])


def test_long_description_is_kept_whole_and_wraps_inside_the_box():
    desc = "rename users.email to email_address and " + " ".join(f"column_{i}" for i in range(30))
    plan = rename_plan(description=desc)
    top = summary(plan).splitlines()[0]
    assert top.startswith(f"┌─ Migration: {desc} ─") and "…" not in top  # no terminal: whole
    lines = summary(plan, width=60).splitlines()
    box = lines[:lines.index("")]
    assert box[0].startswith("┌─ Migration ─") and box[-1].startswith("└")
    assert all(len(line) == len(box[0]) <= 60 for line in box)
    inside = " ".join(line.strip("│ ") for line in box[1:-1])
    assert " ".join(inside.split()).startswith(desc)  # every word, in order, none cut


def test_sequence_lines():
    seq = section(summary(rename_plan()), "Deployment Sequence")
    assert seq == [
        "1. db/migrations/20250101000000_add_email_address.sql — Add column users.email_address — ACCESS EXCLUSIVE · brief",
        "2. db/migrations/20250101000001_copy.sql — Copy email into email_address — ROW EXCLUSIVE · batched",
        "3. deploy the application change — Read and write email_address — no lock",
        # written after the deploy by `flux continue`, under a name given then (a later time stamp)
        "4. written by `flux continue` — Drop column users.email — ACCESS EXCLUSIVE · brief",
    ]


def test_a_step_written_later_is_named_by_its_step_in_the_rollback_too():
    plan = rename_plan()
    plan.steps[3].rollback = ""
    assert "4. run the down SQL of step 4 — data loss: yes" in section(summary(plan), "Rollback")
    plan.steps[2].phase = "contract"  # no deploy: every step is written at once, each by its name
    plan.steps[2].files = ["db/migrations/20250101000003_x.sql"]
    plan.steps[2].up_sql = "SELECT 1;"
    plan.steps[3].data_loss_on_rollback = False  # (a lossy drop after a contract step waits for it: "watch")
    assert section(summary(plan), "Deployment Sequence")[3].startswith("4. db/migrations/20250101000002_drop_email.sql")


def test_rollback_reverse_order_with_data_loss():
    rb = section(summary(rename_plan()), "Rollback")
    assert rb == [
        "4. re-add users.email empty; restore its data from backup — data loss: yes",
        "3. redeploy the previous application version — data loss: no",
        "1. run the down block of db/migrations/20250101000000_add_email_address.sql — data loss: no",
    ]


def test_checklist_conditional_lines():
    text = summary(rename_plan())
    checks = section(text, "Pre-Deploy Checklist")
    assert all(c.startswith("[ ] ") for c in checks)
    assert any("flux verify" in c for c in checks)
    assert any("backup" in c for c in checks)
    assert any("deploy the application change (step 3), then `flux continue` writes the steps after it" in c for c in checks)
    assert any(c.startswith("[ ] lock_timeout is set") for c in checks)
    assert not any("non-transactional" in c for c in checks)


def test_non_transactional_marker_and_tool_hint():
    text = summary(index_plan())
    seq = section(text, "Deployment Sequence")
    assert seq[0].endswith("(no transaction)")
    checks = section(text, "Pre-Deploy Checklist")
    assert any("non-transactional steps run outside a transaction" in c and "transaction:false" in c for c in checks)
    assert not any("lock_timeout" in c for c in checks)
    assert not any("application change" in c for c in checks)


def test_fifteen_steps_fit_with_every_step():
    plan = many_steps(15)
    text = summary(plan)
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES
    for s in plan.steps:
        assert any(l.startswith(f"{s.number}. ") and s.title in l for l in lines)
    assert "lock_timeout" in text and "(no transaction)" in text
    assert "data loss on rollback: steps 15, 10, 5" in text


def test_many_steps_never_exceed_limit():
    for n in (28, 40, 120):
        lines = summary(many_steps(n)).splitlines()
        assert len(lines) <= MAX_LINES, n
        assert lines[0].startswith("┌─ Migration:")
    # 28 steps still fit whole; 120 cannot and says so.
    assert "28. " in summary(many_steps(28))
    big = summary(many_steps(120))
    assert "(92 more steps not shown: see `flux plan --json`)" in big
    assert "each step's down block: 120–1" in big


def test_deterministic():
    assert summary(rename_plan()) == summary(rename_plan().model_copy(deep=True))


# --- no cut words; wrapping to a terminal width --------------------------------------------------

LONG_FILE = "db/migrations/20250101000000_" + "add_a_column_with_a_rather_long_descriptive_name_" * 2 + "x.sql"


def wordy_plan() -> Plan:
    """Titles, risks and rollback texts far longer than any old clip width."""
    steps = [
        Step(number=1, phase="expand", title="Add column users.email_address and a trigger keeping it in sync "
             "with email while old and new application code both run and write", files=[LONG_FILE],
             up_sql="SELECT 1;", down_sql="SELECT 1;", lock="ACCESS EXCLUSIVE",
             risk="brief; blocks reads and writes gated behind a queued lock only for milliseconds, estimated"),
        Step(number=2, phase="code", title="Read and write email_address",
             rollback="redeploy the previous application version, which still reads and writes the old column "
                      "email that the trigger keeps up to date"),
        Step(number=3, phase="contract", title="Drop column users.email and the sync trigger",
             files=["db/migrations/20250101000002_drop_users_email_and_the_sync_trigger.sql"],
             up_sql="SELECT 1;", down_sql="SELECT 1;", lock="ACCESS EXCLUSIVE", transactional=False,
             rollback="re-add users.email empty; restore its data from the backup taken before the deploy",
             data_loss_on_rollback=True),
    ]
    return Plan(description="rename users.email to email_address", type="expand-contract", tool="dbmate",
                operations=[], steps=steps)


PLANS = {"rename": rename_plan, "index": index_plan, "wordy": wordy_plan,
         "15": lambda: many_steps(15), "28": lambda: many_steps(28), "120": lambda: many_steps(120)}
WIDTHS = [None, 40, 60, 80, 100, 132]


def _input_words(plan: Plan, text: str) -> list[str]:
    """Every word the summary shows from the plan: the description, and for each step it
    lists, its file names, title, risk and rollback text."""
    words = plan.description.split()
    shown = [line.split()[0] for line in text.splitlines() if line[:1].isdigit()]
    full_rollback = "data loss: " in text  # the compact rollback form names steps by number only
    later = written_later(plan)  # named when `flux continue` writes them, not now
    for s in plan.steps:
        if f"{s.number}." in shown:
            words += (s.files if s.number not in later else []) + s.title.split() + s.risk.split() + \
                (s.rollback.split() if full_rollback else [])
    return words


@pytest.mark.parametrize("width", WIDTHS, ids=[str(w) for w in WIDTHS])
@pytest.mark.parametrize("name", list(PLANS))
def test_no_ellipsis_and_no_word_cut(name, width):
    plan = PLANS[name]()
    text = summary(plan, width=width)
    assert "…" not in text
    tokens = {t.rstrip(",") for line in text.splitlines() for t in line.split()}
    missing = [w for w in _input_words(plan, text) if w.rstrip(",") not in tokens]
    assert not missing, f"words cut or lost: {missing[:5]}"


@pytest.mark.parametrize("width", [w for w in WIDTHS if w], ids=[str(w) for w in WIDTHS if w])
@pytest.mark.parametrize("name", list(PLANS))
def test_wrapped_summary_fits_width_and_line_limit(name, width):
    plan = PLANS[name]()
    lines = summary(plan, width=width).splitlines()
    assert len(lines) <= MAX_LINES
    files = {f for s in plan.steps for f in s.files}
    for line in lines:
        if len(line) <= width:
            continue
        # Only an unbreakable file name may overflow: alone on its line but for the
        # step number (or hanging indent) before it and the separator glued after it.
        tokens = line.split()
        name = max(tokens, key=len).rstrip(",")
        assert name in files and len(tokens) <= 3 and len(line) - len(name) <= len("28. ") + len(" —"), line
    if name in ("rename", "wordy", "index"):  # small plans keep every step at any width
        assert [l.split()[0] for l in lines if l[:1].isdigit() and l.split()[0].endswith(".")][:len(plan.steps)] \
            == [f"{s.number}." for s in plan.steps]


def test_wrapping_hangs_under_the_text_and_never_breaks_a_file_name():
    plan = wordy_plan()
    lines = summary(plan, width=60).splitlines()
    seq = section("\n".join(lines), "Deployment Sequence")
    assert seq[0] == "1. " + LONG_FILE + " —"  # longer than 60: alone on its line, whole
    assert seq[1].startswith("   Add column users.email_address")  # hanging indent under the text
    assert all(l.startswith("   ") for l in seq[1:seq.index(next(l for l in seq if l.startswith("2. ")))])
    assert sum(LONG_FILE in l for l in lines) == 2  # step 1 and its rollback line name it whole


def test_no_width_keeps_each_line_whole():
    plan = wordy_plan()
    seq = section(summary(plan), "Deployment Sequence")
    assert len(seq) == 3
    assert seq[0] == (f"1. {LONG_FILE} — {plan.steps[0].title} — ACCESS EXCLUSIVE · {plan.steps[0].risk}")


# --- surfaces: the CLI names commands, tool results name tools --------------------------------------

def test_tool_surface_names_tools_not_commands():
    with surface("tools"):
        text = summary(rename_plan())
        big = summary(many_steps(120))
    assert "`flux" not in text and "`flux" not in big
    assert "then write_migration with continue_pending: true writes the steps after it" in text
    assert "(verify_migration runs the steps on a scratch database)" in text
    assert "more steps not shown: see the plan's steps" in big
    cli = summary(rename_plan())  # the default surface is the CLI, and the context var was reset
    assert "then `flux continue` writes the steps after it" in cli and "`flux verify`" in cli


def test_a_refused_plan_says_so_in_its_box_and_first_check():
    """A plan with an error finding (plan --database-url counted rows a step fails on) is written by
    nothing: the box, read first and shown verbatim, says REFUSED beside its type, and the checklist
    opens with what refuses it; a warning changes neither."""
    from flux_agent.model.plan import Finding

    refused = index_plan().model_copy(update={"findings": [
        Finding(rule="live-rows", severity="error", step=1, message="12 rows   of orders would fail"),
        Finding(rule="live-rows", severity="error", message="3 more"),
        Finding(rule="x", severity="warning", message="w")]})
    text = summary(refused)
    box = text.splitlines()[1]
    assert "Type: safe │ REFUSED: 2 errors" in box
    checks = text.split("Pre-Deploy Checklist\n")[1].splitlines()
    assert checks[0] == ("[ ] fix what refuses the plan, nothing is written until then: step 1: live-rows: "
                         "12 rows of orders would fail (and 1 more in the plan's findings)")
    warned = index_plan().model_copy(update={"findings": [Finding(rule="x", severity="warning", message="w")]})
    assert "REFUSED" not in summary(warned) and "fix what refuses" not in summary(warned)
    assert len(summary(refused, width=40).splitlines()) <= MAX_LINES
