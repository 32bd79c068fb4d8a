from flux_agent.models import Plan, Step
from flux_agent.render import MAX_LINES, summary


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


def test_long_description_is_truncated():
    plan = rename_plan(description="rename " + "very_long_column_name_" * 10)
    top = summary(plan).splitlines()[0]
    assert "…" in top and len(top) < 90


def test_sequence_lines():
    seq = section(summary(rename_plan()), "Deployment Sequence")
    assert seq == [
        "1. db/migrations/20250101000000_add_email_address.sql — Add column users.email_address — ACCESS EXCLUSIVE · brief",
        "2. db/migrations/20250101000001_copy.sql — Copy email into email_address — ROW EXCLUSIVE · batched",
        "3. deploy the application change — Read and write email_address — no lock",
        "4. db/migrations/20250101000002_drop_email.sql — Drop column users.email — ACCESS EXCLUSIVE · brief",
    ]


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
    assert "… 92 more steps" in big
    assert "each step's down block: 120–1" in big


def test_deterministic():
    assert summary(rename_plan()) == summary(rename_plan().model_copy(deep=True))
