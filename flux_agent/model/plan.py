"""A plan and its parts: steps with forward and rollback SQL, findings, and the
summary derived from them (DESIGN.md section 3)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field, computed_field

from ..plan import lock_retry, summary as render
from .findings import FileFinding  # noqa: F401  (part of this module's names)
from .operations import Operation
from .terms import Lock, Phase, PlanType, Severity, Tool


class Batching(BaseModel):
    """How a batched backfill step walks its table: the facts estimates and status read."""

    table: str
    batch_size: int = Field(description="rows per batch at most")
    pause_ms: int = Field(description="pause between batches")
    target_ms: int = Field(description="batches are sized to hold their row locks about this long")
    pending: Optional[str] = Field(None, description="SQL condition true for the rows the step has still to do "
                                   "(what `flux status` counts); None when the rows cannot tell")
    # Pacing bounds the DO block was generated with (settings at plan time); defaults for plans
    # stored before they existed.
    max_commit_ms: int = Field(100, description="a batch slower than this (UPDATE to COMMIT returned) lengthens the pause")
    max_lag_bytes: Optional[int] = Field(16 * 1024 * 1024, description="replica lag that lengthens the pause; "
                                         "None when the block does not read it (PostgreSQL before 10)")
    max_pause_ms: int = Field(2000, description="the longest pause when throttled")
    min_rows_per_s: int = Field(200, description="floor rate: throttling never goes slower")
    flush_after_kb: int = Field(0, description="backend_flush_after the batches run with (0: the server's)")


class LockRetry(BaseModel):
    """How a step whose lock blocks the application's reads or writes gets it: each try waits
    at most `wait_ms` (the longest the application's queries queue behind it), and a try that
    is not granted in time lets go of every lock it took, pauses and tries again."""

    tries: int = Field(description="tries before the step fails (nothing changed)")
    wait_ms: int = Field(description="lock_timeout of each try")
    first_pause_ms: int = Field(description="pause after the first refused try; each later pause doubles")
    max_pause_ms: int = Field(description="the longest pause between tries")

    def pauses_ms(self) -> list[int]:
        """The pauses between tries, before jitter (which only shortens them)."""
        return [min(self.max_pause_ms, self.first_pause_ms * 2 ** i) for i in range(self.tries - 1)]

    @property
    def worst_wait_ms(self) -> int:
        """The longest a step can spend waiting for its locks: every try refused."""
        return self.tries * self.wait_ms + sum(self.pauses_ms())


class Step(BaseModel):
    number: int = 0
    phase: Phase
    title: str
    files: list[str] = Field(default_factory=list)
    guard_sql: Optional[str] = Field(None, description=(
        "a statement the step's files run on its own (its own transaction) before up_sql, so a run "
        "after a failure starts clean: it drops the INVALID index a failed concurrent build of this "
        "step left. The files run guard_sql then up_sql. None when the step needs none, or when its "
        "tool sends a file as one query and cannot run it apart (the risk then says what to do)"))
    up_sql: Optional[str] = Field(None, description="the step's forward SQL; with lock_retry, one try of it "
                                  "(its file and verify run it retried: up_file_sql)")
    down_sql: Optional[str] = Field(None, description="the step's rollback SQL (one try, as up_sql)")
    transactional: bool = True
    lock: Lock = "none"
    lock_note: str = Field("", description="what the lock applies to, when not the whole step: "
                           "'per batch', 'new table', 'both tables'")
    risk: str = ""
    data_loss_on_rollback: bool = False
    rollback: str = Field("", description="what undoing this step does, in words")
    undoes_steps_before: int = Field(0, description="how many of the steps right before it its rollback undoes "
                                     "too (a constraint attached USING INDEX takes its index when dropped; a "
                                     "partitioned index, the partitions' indexes): run again, they run first")
    batching: Optional[Batching] = Field(None, description="for a batched backfill: how it walks the table")
    lock_retry: Optional[LockRetry] = Field(None, description="for a step whose lock blocks the application: "
                                            "how its migration file retries a lock not granted in time "
                                            "(up_sql and down_sql are one try)")

    @property
    def up_file_sql(self) -> Optional[str]:
        """The forward SQL as the migration file holds it and verify runs it: up_sql, retried
        on a lock timeout when the step says so."""
        return lock_retry.wrap(self.up_sql, self.lock_retry)

    @property
    def down_file_sql(self) -> Optional[str]:
        """The rollback SQL as the migration file holds it (see up_file_sql)."""
        return lock_retry.wrap(self.down_sql, self.lock_retry)

    @property
    def is_code(self) -> bool:
        """An application deploy: no SQL, and the point where a plan's writing pauses."""
        return self.phase == "code"


class Finding(BaseModel):
    rule: str
    severity: Severity
    message: str
    step: Optional[int] = None


class CodeChange(BaseModel):
    """An edit to the ORM's own description of the schema (models.py, schema.prisma, a Drizzle
    schema.ts, ...) so the ORM agrees with the database after the plan's code-deploy step."""

    path: str = Field(description="the file, relative to the project")
    patch: str = Field(description="a unified diff against the file as it is now (apply with `patch -p1`); "
                                   "empty when the file could not be found or parsed: then `why` says what to do")
    why: str = Field(description="what the change is for, or why it cannot be made")
    applied_on_write: bool = Field(False, description="--write applies it (a file that only describes the "
                                                      "database, such as schema.prisma); else it is the user's "
                                                      "or the model's to apply with the application change")
    applied_when_written: bool = Field(False, description="`flux continue` applies it as it writes the plan's "
                                       "last step (a file that describes the database once the contract has "
                                       "run: a Drizzle schema.ts after a rename or drop)")
    applied_at_step: Optional[int] = Field(None, description="the write that writes this step (`flux plan "
                                           "--write` or `flux continue`) applies it: a Drizzle schema.ts kept "
                                           "to what the migrations written so far leave in the database")

    @property
    def applied_by_flux(self) -> bool:
        """Flux applies it as it writes the plan's files: nothing for the user to apply."""
        return self.applied_on_write or self.applied_when_written or self.applied_at_step is not None


class Plan(BaseModel):
    description: str
    type: PlanType
    tool: Tool
    dialect: Literal["postgresql"] = "postgresql"
    operations: list[Operation]
    steps: list[Step]
    findings: list[Finding] = Field(default_factory=list)
    code_changes: list[CodeChange] = Field(default_factory=list, description="edits that keep the ORM's model in "
                                           "step with the database (DESIGN.md: extended by issue 18)")

    @computed_field(description="the deployment summary, rendered from the plan as it stands: show it verbatim")
    @property
    def summary(self) -> str:
        # Derived, never stored: a stored copy went stale when files were renamed at write time.
        return render.summary(self)
