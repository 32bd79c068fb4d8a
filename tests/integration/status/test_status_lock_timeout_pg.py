"""A step that times out on a held lock, as production meets it: the file's own retries give up
while another session holds the table, the step changes nothing, `flux status` reads it as not
applied with the step to run next, and once the holder is gone, running it again finishes the
plan with the data it should have."""

from __future__ import annotations

import shutil

import psycopg
import pytest
from shop import ROOT, build_shop

from flux_agent.entry import actions as tools
from flux_agent.schema.migration_files import up_section
from flux_agent.status.project import project_status

pytestmark = pytest.mark.pg


def _run(url: str, project, step, notices: list | None = None) -> None:
    for name in step.files:
        path = project / name
        _, sql = up_section(path, path.read_text())
        with psycopg.connect(url, autocommit=not step.transactional) as conn:
            if notices is not None:
                conn.add_notice_handler(lambda d: notices.append(d.message_primary))
            conn.execute(sql)


def test_a_step_refused_its_lock_reads_as_not_applied_and_runs_again_to_the_end(tmp_path, pg_url):
    project = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", project)
    (project / ".flux.yaml").write_text("lock_wait_ms: 20\nlock_tries: 3\nlock_retry_pause_ms: 20\n")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        build_shop(conn)
    ops = tools.parse_operations({"op": "rename_column", "table": "users", "column": "email",
                                  "new_name": "email_address"})
    plan = tools.write_migration(tools.plan_migration(ops, str(project)), str(project)).plan
    first = plan.steps[0]
    assert first.lock_retry is not None and first.lock_retry.tries == 3

    holder = psycopg.connect(pg_url)  # a long transaction that read users: its lock outlasts every try
    holder.execute("SELECT count(*) FROM users").fetchone()
    notices: list[str] = []
    try:
        with pytest.raises(psycopg.errors.LockNotAvailable, match="nothing was changed"):
            _run(pg_url, project, first, notices)
    finally:
        holder.close()
    assert sum("try" in n for n in notices) == 2  # refused three times, paused twice
    report = project_status(project, pg_url)
    assert report.plans[0].steps[0].state == "not applied"
    assert report.plans[0].next.startswith("Run step 1")

    deploy = next(s.number for s in plan.steps if s.is_code)
    for step in plan.steps[:deploy - 1]:  # the table free again: the same files finish the job
        _run(pg_url, project, step)
    states = {s.number: s.state for s in project_status(project, pg_url).plans[0].steps}
    assert all(states[n] == "applied" for n in range(1, deploy))
    with psycopg.connect(pg_url) as conn:
        differ = conn.execute("SELECT count(*) FROM users WHERE email_address IS DISTINCT FROM email").fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    assert differ == 0 and rows > 0
