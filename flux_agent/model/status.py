"""What `flux status` reports: for each plan Flux keeps, which steps a database has applied, which
failed half-way, and the one next action."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

StepState = Literal["applied", "not applied", "failed half-way", "unknown", "not written", "written", "deploy"]


class StepStatus(BaseModel):
    number: int
    title: str
    state: StepState = Field(description="applied / not applied / failed half-way read from the database; "
                                         "not written / written from the plan record alone (no database given); "
                                         "unknown: the step leaves nothing the catalogs show; deploy: an application change")
    files: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list, description="the catalog facts and migration-table rows read")
    fix: str = Field("", description="what to run to finish a step that failed half-way")


class PlanStatus(BaseModel):
    id: str
    description: str
    steps: list[StepStatus]
    next: str = Field(description="the one next action, in a sentence")


class StatusReport(BaseModel):
    database: Optional[str] = Field(None, description="the database read (its URL without the password); "
                                                      "None: the plan records alone")
    plans: list[PlanStatus] = Field(default_factory=list)
    blocked: Optional[str] = Field(None, description="what the migration tool's own table says stops it running "
                                                     "any migration (golang-migrate's dirty version, Flyway's "
                                                     "failed row): put right before any next action")
