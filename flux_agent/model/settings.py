"""Project settings ([tool.flux] in pyproject.toml or .flux.yaml, DESIGN.md section 5),
overridable by flags; flux_agent.project.config reads them."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from .terms import Tool


class Settings(BaseModel):
    """Project settings ([tool.flux] or .flux.yaml), overridable by flags."""

    model_config = ConfigDict(extra="forbid")

    lock_timeout: str = "1s"
    statement_timeout: str = "5s"
    backfill_batch_size: int = Field(5000, gt=0)
    backfill_sleep_ms: int = Field(50, ge=0)
    backfill_batch_ms: int = Field(20, gt=0, description="target time a backfill batch holds its row locks")
    pg_version: int = Field(12, ge=9)
    migrations_dir: Optional[str] = None
    tool: Optional[Tool] = None
    include_rules: list[str] = Field(default_factory=list, description="opt-in validation rules to switch on")
    require_down: bool = Field(True, description="false for projects that ship up migrations only: no "
                               "missing-rollback findings (a folder without any down SQL is read as such)")
    dev_url: Optional[str] = Field(None, description="a PostgreSQL server of the user's own for the dev database, "
                                   "never the application's (default: embedded)")
