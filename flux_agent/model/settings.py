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
    # Pacing (issue 25): a backfill's own signals that the server is straining. Each bound passed
    # lengthens the pause (doubling, up to backfill_max_pause_ms) and never below the floor rate.
    backfill_max_commit_ms: int = Field(100, gt=0, description="a batch taking longer than this from its UPDATE "
                                        "to its COMMIT's return (WAL flush, I/O, lock waits) slows the backfill")
    backfill_max_lag_bytes: int = Field(16 * 1024 * 1024, gt=0, description="replica lag (WAL not yet replayed, "
                                        "pg_stat_replication; needs pg_monitor) above which the backfill slows")
    backfill_max_pause_ms: int = Field(2000, ge=0, description="the longest pause between batches when throttled")
    backfill_min_rows_per_s: int = Field(200, gt=0, description="floor rate: throttling never slows a backfill "
                                         "below this, so it always finishes")
    pg_version: int = Field(12, ge=9)
    migrations_dir: Optional[str] = None
    tool: Optional[Tool] = None
    include_rules: list[str] = Field(default_factory=list, description="opt-in validation rules to switch on")
    require_down: bool = Field(True, description="false for projects that ship up migrations only: no "
                               "missing-rollback findings (a folder without any down SQL is read as such)")
    dev_url: Optional[str] = Field(None, description="a PostgreSQL server of the user's own for the dev database, "
                                   "never the application's (default: embedded)")
