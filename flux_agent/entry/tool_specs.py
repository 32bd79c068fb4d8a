"""The eight tools as the MCP server and the Claude agent expose them: one pydantic request
model each (their compacted JSON schemas are the tools' input schemas, entry/tool_schema.py),
one result model each, and the handler that calls flux_agent.entry.actions. Nothing here
decides anything about migrations; it only adapts, and keeps a session inside its project.

The operation schema is published once, by plan_migration: the plan it returns has a
plan_id, and write_migration and verify_migration take that id (entry/plan_ids.py).
Handlers import the planner only when called, so the server starts at the SDK's own pace.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..errors import FluxInputError
from ..model.operations import Operation
from ..model.fix import FixResult
from ..model.plan import CodeChange, FileFinding, Plan
from ..model.status import StatusReport
from ..model.terms import Tool
from . import plan_ids
from .session import inside

_PROJECT = Field(None, description="project folder inside the session's project; default: the session's project")
_TOOL = Field(None, description="the migration tool, when detection picks the wrong one")
_PLAN_ID = Field(None, description="plan_id from plan_migration", max_length=40)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project_dir: Optional[str] = _PROJECT


class DetectRequest(_Request):
    tool: Optional[Tool] = _TOOL


class ReadSchemaRequest(_Request):
    tool: Optional[Tool] = _TOOL
    database_url: Optional[str] = Field(None, description="read a live PostgreSQL instead of the migrations")
    tables: Optional[list[str]] = Field(None, description="only these tables, with the views and enums they use; "
                                        "default: all")


class PlanRequest(_Request):
    operations: list[Operation] = Field(min_length=1, description="typed operations, planned in order")
    tool: Optional[Tool] = _TOOL
    pg_version: Optional[int] = Field(None, ge=9, description="PostgreSQL major version of production")
    database_url: Optional[str] = Field(None, description="live database (read-only) for table sizes")


class ValidateRequest(_Request):
    paths: list[str] = Field(min_length=1, description="SQL files or folders, relative to the project")
    since: Optional[str] = Field(None, description="git ref: judge only the files added or changed since it")


class FixRequest(_Request):
    paths: list[str] = Field(min_length=1, description="migration files, relative to the project")
    write: bool = Field(False, description="replace each file by Flux's files; refused for one committed at "
                        "the git base or recorded in database_url")
    base: Optional[str] = Field(None, description="git base ref; default: the upstream branch, else HEAD")
    database_url: Optional[str] = Field(None, description="a database whose migrations table to check (read-only)")


class StatusRequest(_Request):
    database_url: Optional[str] = Field(None, description="the database to read (read-only); default: the plan "
                                        "records alone")


class WriteRequest(_Request):
    plan_id: Optional[str] = _PLAN_ID
    continue_pending: bool = Field(False, description="write the next steps of the plan written before, once "
                                   "its code deploy is out")


class VerifyRequest(_Request):
    plan_id: Optional[str] = Field(None, description="plan_id from plan_migration; default: the pending written "
                                   "plan", max_length=40)
    database_url: Optional[str] = Field(None, description="server for a scratch database; default: embedded")
    rows: Optional[int] = Field(None, ge=0, description="synthetic rows per table (default 1000)")
    load: bool = Field(False, description="run old- and new-code traffic during the steps; report latency and "
                       "lost writes")
    i_know: bool = Field(False, description="allow a database_url that looks like production")


class PlanResult(BaseModel):
    plan_id: str = Field(description="pass to write_migration or verify_migration")
    plan: Plan


class ValidateResult(BaseModel):
    findings: list[FileFinding]
    errors: int = Field(description="error-level findings; any means the files must not be deployed")


class FixResults(BaseModel):
    results: list[FixResult] = Field(description="per file: each statement's fate, the plan, what was written")


class WriteResult(BaseModel):
    files: list[str] = Field(description="written files, relative to the project")
    summary: str = Field(description="the deployment summary: show it to the user verbatim")
    next: str = Field(description="what must happen before the remaining steps are written")
    remaining_steps: list[int]
    code_changes: list[CodeChange] = Field(description="ORM model edits to apply with the application change "
                                           "(the ones writing did not apply)")


class VerifyResult(BaseModel):
    status: Literal["ok", "failed"]
    report: str = Field(description="the report as the CLI prints it: show it to the user")


def detect_tooling(req: DetectRequest, root: Path):
    from . import actions

    return actions.detect_tooling(str(inside(root, req.project_dir)), req.tool)


def read_schema(req: ReadSchemaRequest, root: Path):
    from . import actions
    from ..schema.subset import only_tables

    schema = actions.read_schema(str(inside(root, req.project_dir)), req.tool, req.database_url)
    return only_tables(schema, req.tables) if req.tables else schema


def plan_migration(req: PlanRequest, root: Path) -> PlanResult:
    from . import actions

    project = inside(root, req.project_dir)
    plan = actions.plan_migration(req.operations, str(project), tool=req.tool, pg_version=req.pg_version,
                                  database_url=req.database_url)
    return PlanResult(plan_id=plan_ids.remember(project, req.operations, req.tool, req.pg_version), plan=plan)


def validate_migration(req: ValidateRequest, root: Path) -> ValidateResult:
    from . import actions

    project = inside(root, req.project_dir)
    paths = [str(inside(root, p, base=project, what="path")) for p in req.paths]
    findings = actions.validate_migration(paths, str(project), since=req.since)
    return ValidateResult(findings=findings, errors=sum(f.severity == "error" for f in findings))


def fix_migration(req: FixRequest, root: Path) -> FixResults:
    from .fix import fix_files

    project = inside(root, req.project_dir)
    paths = [str(inside(root, p, base=project, what="path")) for p in req.paths]
    return FixResults(results=fix_files(paths, str(project), write=req.write, base=req.base,
                                        database_url=req.database_url))


def write_migration(req: WriteRequest, root: Path) -> WriteResult:
    from . import actions

    project = inside(root, req.project_dir)
    if req.continue_pending == bool(req.plan_id):
        raise FluxInputError("give plan_id (from plan_migration) to write a plan, or continue_pending: true "
                             "to write the next steps of the plan written before")
    if req.continue_pending:
        outcome = actions.continue_migration(str(project))
        plan = actions.pending_plan(str(project), outcome.record)
    else:
        # Re-planned from its operations: the files hold Flux's SQL for the project as it is now.
        planned = plan_ids.recall(req.plan_id, project)
        plan = actions.plan_migration(planned.operations, str(project), tool=planned.tool,
                                      pg_version=planned.pg_version)
        outcome = actions.write_migration(plan, str(project))
        plan = outcome.plan or plan
    return WriteResult(files=outcome.files, summary=plan.summary, next=outcome.next,
                       remaining_steps=outcome.remaining_steps,
                       code_changes=[c for c in plan.code_changes
                                     if not c.applied_by_flux])


def migration_status(req: StatusRequest, root: Path) -> StatusReport:
    from ..status.project import project_status

    return project_status(inside(root, req.project_dir), req.database_url)


def verify_migration(req: VerifyRequest, root: Path) -> VerifyResult:
    from ..pg.parse import require_pglast

    require_pglast("verify_migration")
    from ..verify import render_report, verify

    project = inside(root, req.project_dir)
    operations = plan_ids.recall(req.plan_id, project).operations if req.plan_id else None
    report = verify(str(project), req.database_url, rows=1000 if req.rows is None else req.rows,
                    load=req.load, operations=operations, i_know=req.i_know)
    return VerifyResult(status="ok" if report.ok else "failed", report=render_report(report))


@dataclass(frozen=True)
class ToolSpec:
    name: str
    request: type[BaseModel]
    handler: Callable
    description: str


TOOLS: list[ToolSpec] = [
    ToolSpec("detect_tooling", DetectRequest, detect_tooling,
             "Find the project's migration tool, its migrations folder and SQL dialect."),
    ToolSpec("read_schema", ReadSchemaRequest, read_schema,
             "The project's current schema (tables, columns, indexes, constraints, enums, views and what "
             "depends on them), built from its migrations on PostgreSQL."),
    ToolSpec("plan_migration", PlanRequest, plan_migration,
             "Plan a zero-downtime schema change from typed operations: ordered steps with forward and "
             "rollback SQL, locks, findings, ORM code changes and a deployment summary. Writes nothing; "
             "returns a plan_id."),
    ToolSpec("validate_migration", ValidateRequest, validate_migration,
             "Check SQL migration files someone wrote for locking, rewrite, data-loss and correctness problems."),
    ToolSpec("fix_migration", FixRequest, fix_migration,
             "Turn unsafe migration files into a safe plan: each unsafe statement planned as its operation, "
             "safe ones kept in order; write replaces a file no database can have run yet."),
    ToolSpec("write_migration", WriteRequest, write_migration,
             "Write a planned change (plan_id) as migration files in the project's tool format, up to its "
             "first code deploy; never overwrites a file."),
    ToolSpec("verify_migration", VerifyRequest, verify_migration,
             "Before deploying: run a plan forward, back and forward again on a scratch PostgreSQL."),
    ToolSpec("migration_status", StatusRequest, migration_status,
             "After or during a deploy: which steps of the project's written plans a database has applied, "
             "which failed half-way (with the command that finishes it), and the next action."),
]
BY_NAME = {t.name: t for t in TOOLS}
