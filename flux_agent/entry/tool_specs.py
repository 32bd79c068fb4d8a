"""The six tools as the MCP server and the Claude agent expose them: one
pydantic request model each (their JSON schemas are the tools' input
schemas), one result model each (output schemas), and the handler that calls
flux_agent.entry.actions. Nothing here decides anything; it only adapts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from . import actions as tools
from ..project.detect import Detection
from ..errors import FluxInputError
from ..model.plan import FileFinding, Plan
from ..model.operations import Operation
from ..model.schema import Schema
from ..pg.parse import require_pglast
from ..verify.report import VerifyReport

_PROJECT = Field(None, description="absolute path of the project; default: the server's working directory")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project_dir: Optional[str] = _PROJECT


class DetectRequest(_Request):
    tool: Optional[str] = Field(None, description="force a migration tool instead of detecting it")


class ReadSchemaRequest(_Request):
    tool: Optional[str] = None
    database_url: Optional[str] = Field(None, description="read a live PostgreSQL instead of the migrations")


class PlanRequest(_Request):
    operations: list[Operation] = Field(min_length=1, description="typed operations, planned in order")
    tool: Optional[str] = None
    pg_version: Optional[int] = Field(None, ge=9, description="PostgreSQL major version of production")
    database_url: Optional[str] = Field(None, description="read the schema and table sizes from a live "
                                        "database (read-only) for duration estimates")


class ValidateRequest(_Request):
    paths: list[str] = Field(min_length=1, description="migration files or folders, relative to the project")


class WriteRequest(_Request):
    """Writing re-plans from the operations: the files always hold Flux's own SQL.
    Only the steps before the first application deploy are written; after that
    deploy, call again with continue_pending to write the next ones."""

    operations: Optional[list[Operation]] = Field(None, description="typed operations; omit with continue_pending")
    tool: Optional[str] = None
    pg_version: Optional[int] = Field(None, ge=9)
    continue_pending: bool = Field(False, description="write the next steps of the plan written before, "
                                   "once its code deploy is done")


class VerifyRequest(_Request):
    """Verify the pending plan (the newest plan record with steps left to write), or
    the given operations, on a scratch PostgreSQL: forward, roll back, forward again."""

    operations: Optional[list[Operation]] = Field(None, description="verify these operations instead of the "
                                                  "pending plan")
    database_url: Optional[str] = Field(None, description="a server to create a scratch database on; default: "
                                        "an embedded PostgreSQL in a temporary folder")
    rows: Optional[int] = Field(None, ge=0, description="synthetic rows per table (default 1000)")
    load: bool = Field(False, description="run old-code and new-code application traffic while the steps run; "
                       "report latency per step and lost writes")
    i_know: bool = Field(False, description="allow a database_url that looks like production")


class ValidateResult(BaseModel):
    findings: list[FileFinding]
    errors: int = Field(description="error-level findings; any means the files must not be deployed")


class WriteResult(BaseModel):
    files: list[str] = Field(description="written files, relative to the project")
    summary: str = Field(description="the deployment summary: show it to the user verbatim")
    next: str = Field(description="what must happen before the remaining steps are written")
    remaining_steps: list[int]
    plan: Plan


class VerifyResult(BaseModel):
    status: Literal["ok", "failed"]
    message: str = Field(description="one line: the outcome, or what failed first")
    report: VerifyReport
    text: str = Field(description="the report as the CLI prints it: show it to the user")


def _base(project_dir: Optional[str]) -> Optional[str]:
    return project_dir or str(Path.cwd())


def detect_tooling(req: DetectRequest) -> Detection:
    return tools.detect_tooling(_base(req.project_dir), req.tool)


def read_schema(req: ReadSchemaRequest) -> Schema:
    return tools.read_schema(_base(req.project_dir), req.tool, req.database_url)


def plan_migration(req: PlanRequest) -> Plan:
    return tools.plan_migration(req.operations, _base(req.project_dir), tool=req.tool, pg_version=req.pg_version,
                                database_url=req.database_url)


def validate_migration(req: ValidateRequest) -> ValidateResult:
    project = tools.project_path(_base(req.project_dir))
    paths = [str(p if Path(p).is_absolute() else project / p) for p in req.paths]
    findings = tools.validate_migration(paths, str(project))
    return ValidateResult(findings=findings, errors=sum(f.severity == "error" for f in findings))


def write_migration(req: WriteRequest) -> WriteResult:
    if req.continue_pending:
        outcome = tools.continue_migration(_base(req.project_dir))
        plan = tools.pending_plan(_base(req.project_dir), outcome.record)
    else:
        if not req.operations:
            raise FluxInputError("give operations to write, or continue_pending to write the next steps")
        plan = tools.plan_migration(req.operations, _base(req.project_dir), tool=req.tool,
                                    pg_version=req.pg_version)
        outcome = tools.write_migration(plan, _base(req.project_dir))
        plan = outcome.plan or plan
    return WriteResult(files=outcome.files, summary=plan.summary, next=outcome.next,
                       remaining_steps=outcome.remaining_steps, plan=plan)


def verify_migration(req: VerifyRequest) -> VerifyResult:
    require_pglast("verify_migration")
    # Imported here: verify's modules read pglast's trees (verify/seed.py), which the other tools do without.
    from ..verify import render_report, verify

    report = verify(_base(req.project_dir), req.database_url, rows=1000 if req.rows is None else req.rows,
                    load=req.load, operations=req.operations, i_know=req.i_know)
    message = ("every step ran forward, rolled back and ran forward again" if report.ok
               else report.failure or "verification failed")
    return VerifyResult(status="ok" if report.ok else "failed", message=message, report=report,
                        text=render_report(report))


@dataclass(frozen=True)
class ToolSpec:
    name: str
    request: type[BaseModel]
    result: type[BaseModel]
    handler: Callable
    description: str


TOOLS: list[ToolSpec] = [
    ToolSpec("detect_tooling", DetectRequest, Detection, detect_tooling,
             "Find the project's migration tool, its migrations folder and SQL dialect."),
    ToolSpec("read_schema", ReadSchemaRequest, Schema, read_schema,
             "Read the project's current database schema (tables, columns, indexes, constraints, enums, views)."),
    ToolSpec("plan_migration", PlanRequest, Plan, plan_migration,
             "Plan a zero-downtime schema change from typed operations: ordered steps with forward and "
             "rollback SQL, locks, risks, findings and a deployment summary. Writes nothing."),
    ToolSpec("validate_migration", ValidateRequest, ValidateResult, validate_migration,
             "Check migration SQL files for locking, rewrite, data-loss and correctness problems."),
    ToolSpec("write_migration", WriteRequest, WriteResult, write_migration,
             "Plan the operations and write the migration files in the project's tool format; "
             "never overwrites a file. Returns the files and the summary to show the user."),
    ToolSpec("verify_migration", VerifyRequest, VerifyResult, verify_migration,
             "Run the pending plan forward, back and forward on a scratch PostgreSQL."),
]
BY_NAME = {t.name: t for t in TOOLS}
