"""The status of every plan a project keeps (.flux/plans): from the records alone, or read from a
database (read-only: one transaction, READ ONLY, with timeouts, never a write)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import FluxInputError, one_line
from ..model.status import StatusReport
from ..project.applied import is_recorded, read_runs, runs_table, tool_blocked
from ..write.deploy_groups import PLANS_DIR, plan_records
from .report import from_database, from_record


def project_status(project: Path, database_url: Optional[str] = None) -> StatusReport:
    records = plan_records(project)
    if not records:
        raise FluxInputError(f"no plan in {PLANS_DIR}/: `flux plan --write` keeps one there")
    if database_url is None:
        return StatusReport(plans=[from_record(r) for r in records])
    import psycopg

    try:
        with psycopg.connect(database_url, connect_timeout=10, autocommit=False) as conn:
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute("SET LOCAL statement_timeout = '30s'")
            conn.execute("SET LOCAL lock_timeout = '1s'")  # catalog reads: never queue behind a migration
            plans = [from_database(r, conn, _recorded_files(project, r, conn)) for r in records]
            tool, folder = records[-1].plan.tool, records[-1].migrations_dir
            blocked = tool_blocked(conn, tool, runs_table(tool, project, folder))
            conn.rollback()
            shown = _without_password(conn.info)
    except psycopg.Error as exc:
        raise FluxInputError(f"cannot read the database: {one_line(exc)}") from None
    if blocked:  # the tool runs nothing until it is put right: that comes first
        plans = [p.model_copy(update={"next": f"First put right what stops the migration tool: {blocked}. Then: "
                                              f"{p.next}"}) if not p.next.startswith("Nothing left") else p
                 for p in plans]
    return StatusReport(database=shown, plans=plans, blocked=blocked)


def _recorded_files(project: Path, record, conn) -> Optional[set[str]]:
    """The plan's written files its migration tool's table records as run; None: no table to read."""
    tool = record.plan.tool
    runs = read_runs(conn, tool, runs_table(tool, project, record.migrations_dir))
    if runs is None:
        return None
    files = [f for s in record.plan.steps for f in s.files if (project / f).is_file()]
    return {f for f in files if is_recorded(project / f, tool, runs)}


def _without_password(info) -> str:
    """Where status read from, as a URL without the password: a Unix socket's folder as libpq's
    `host=` (it said localhost:5432, not where it connected)."""
    if info.host.startswith("/"):
        return f"postgresql://{info.user}@/{info.dbname}?host={info.host}&port={info.port}"
    return f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
