"""The summary's checklist lines for managed servers and transaction poolers: said only when a
step's SQL has something they refuse, one line per kind, within the 40-line summary."""

from flux_agent.model.plan import Plan, Step
from flux_agent.plan.summary import MAX_LINES, summary


def _plan(*sqls: str, extra: int = 0) -> Plan:
    steps = [Step(number=i, phase="migrate", title=f"step {i}", files=[f"db/migrations/2025010100000{i}_s.sql"],
                  up_sql=sql, down_sql="SELECT 1;", lock="ACCESS EXCLUSIVE", risk="brief")
             for i, sql in enumerate(sqls, 1)]
    steps += [Step(number=len(steps) + j, phase="migrate", title=f"filler {j}", up_sql="SELECT 1;",
                   lock="none", risk="none") for j in range(1, extra + 1)]
    return Plan(description="managed", type="safe", tool="dbmate", operations=[], steps=steps)


def _checks(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("[ ]")]


def test_a_clean_plan_has_no_managed_line():
    text = summary(_plan("SET LOCAL lock_timeout = '1s'; ALTER TABLE t ADD COLUMN a int;"))
    assert not any("superuser" in c or "PgBouncer" in c or "allow-list" in c for c in _checks(text))


def test_each_kind_gets_one_line_naming_its_steps():
    text = summary(_plan("SET lock_timeout = '1s'; ALTER TABLE t ADD COLUMN a int;",
                         "SET statement_timeout = 0; SET LOCAL session_replication_role = replica;",
                         "SELECT create_hypertable('events', 'at');"))
    checks = _checks(text)
    assert ("[ ] steps 1, 2 keep session state past the transaction, which PgBouncer in transaction mode hands to "
            "the next client: SET lock_timeout without LOCAL: the setting stays on the pooled server connection "
            "(and 1 more)") in checks
    assert ("[ ] step 2 needs a superuser, which managed servers do not grant: SET session_replication_role "
            "needs a superuser") in checks
    assert any(c.startswith("[ ] extension outside a managed provider's usual allow-list: timescaledb (step 3; "
                            "not on RDS, Cloud SQL)") for c in checks)


def test_the_lines_survive_a_long_plan_within_the_limit():
    text = summary(_plan("SET lock_timeout = '1s';", extra=40))
    assert len(text.splitlines()) <= MAX_LINES
    assert any("PgBouncer" in c for c in _checks(text))


def test_a_model_change_flux_could_not_make_is_said_to_be_made_by_hand():
    """A code change without a patch (SQLModel's drop_table on full-stack-fastapi-template) was
    listed as one to "apply" with the rest; it is the user's to make, as its why says."""
    from flux_agent.model.plan import CodeChange

    plan = _plan("ALTER TABLE t ADD COLUMN a int;").model_copy(update={"tool": "alembic", "code_changes": [
        CodeChange(path="app/models.py", patch="--- a/app/models.py\n+++ b/app/models.py\n", why="add a"),
        CodeChange(path="app/other.py", patch="", why="Flux does not edit SQLModel classes for drop_table")]})
    checks = _checks(summary(plan))
    # the plan has no deploy step (nestjs-boilerplate's add_column said "with the application change")
    assert ("[ ] apply the model changes (app/models.py) with the migration (the plan has no deploy step), so the "
            "ORM agrees with the database") in checks
    assert "[ ] app/other.py: Flux does not edit SQLModel classes for drop_table" in checks


def test_a_schema_dump_to_write_again_is_not_said_to_be_edited_by_hand():
    """maybe-finance (Rails): the checklist said to change db/schema.rb by hand, its code change that
    `db:migrate` dumps it again and not to edit it by hand. The line says what the code change says."""
    from flux_agent.model.plan import CodeChange

    why = "`bin/rails db:migrate` dumps db/schema.rb again after these migrations run; commit it, not an edit by hand"
    plan = _plan("ALTER TABLE t ADD COLUMN a int;").model_copy(update={"tool": "rails", "code_changes": [
        CodeChange(path="db/schema.rb", patch="", why=why)]})
    checks = _checks(summary(plan))
    assert f"[ ] db/schema.rb: {why}" in checks and not any("by hand as its code change" in c for c in checks)


def test_django_s_model_change_ships_in_the_commit_of_the_migrations_written():
    """Django's migrations written by --write carry the models edit's state operations: the edit goes
    in their commit (makemigrations --check agrees there); another tool's edit only with the deploy."""
    from flux_agent.model.plan import CodeChange

    base = _plan("SET lock_timeout = '1s'; ALTER TABLE t ADD COLUMN a int;")
    code = Step(number=2, phase="code", title="deploy code that writes a", lock="none", risk="none")
    change = CodeChange(path="shop/models.py", patch="--- a\n+++ b\n", why="field a")
    for tool, said in (("django", True), ("alembic", False)):
        plan = base.model_copy(update={"tool": tool, "steps": [*base.steps, code], "code_changes": [change]})
        line = next(c for c in _checks(summary(plan)) if "apply the model changes" in c)
        assert ("in one commit with the migrations `--write` writes" in line) is said, line
