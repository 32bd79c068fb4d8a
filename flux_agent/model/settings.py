"""Project settings ([tool.flux] in pyproject.toml or .flux.yaml, DESIGN.md section 5),
overridable by flags; flux_agent.project.config reads them."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .terms import Tool


_UNIT_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(text: str) -> int:
    """A PostgreSQL time setting ('5s', '500ms', '1min', a bare number of ms) in milliseconds."""
    t = str(text).strip().lower()
    number = t.rstrip("abcdefghijklmnopqrstuvwxyz ").strip()
    unit = t[len(number):].strip() or "ms"
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a PostgreSQL duration: {text!r} (e.g. '5s', '500ms', '1min')") from None
    if unit not in _UNIT_MS or value < 0:
        raise ValueError(f"not a PostgreSQL duration: {text!r} (units: {', '.join(_UNIT_MS)})")
    return round(value * _UNIT_MS[unit])


class Settings(BaseModel):
    """Project settings ([tool.flux] or .flux.yaml), overridable by flags."""

    model_config = ConfigDict(extra="forbid")

    lock_timeout: str = Field("1s", description="how long a step whose lock blocks nothing the application "
                              "does (VALIDATE, a backfill batch) waits for it")
    # A step whose lock queues the application's reads or writes waits briefly and retries
    # (plan/lock_retry.py): traffic queues behind it for lock_wait_ms at most, not lock_timeout.
    lock_wait_ms: int = Field(30, gt=0, description="how long each try of a step whose lock blocks the "
                              "application waits for it: the longest queries queue behind the step")
    lock_tries: int = Field(30, gt=0, description="tries of such a step before it fails, changing nothing")
    lock_retry_pause_ms: int = Field(100, ge=0, description="pause after the first refused try; later "
                                     "pauses double")
    lock_retry_max_pause_ms: int = Field(5000, ge=0, description="the longest pause between tries")
    statement_timeout: str = "5s"
    backfill_batch_size: int = Field(5000, gt=0)
    # Short pauses: at 2,000,000 rows the worst stall came from the disk's own slow WAL fsyncs, met
    # more often the longer a copy runs (pauses of 120/30/10 ms: copies of 113-148/38-48/20-27 s,
    # worst stalls 63-132/60-93/12-25 ms). The batch's row-lock time, not the pause, bounds a wait.
    backfill_sleep_ms: int = Field(10, ge=0)
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
    # A long walk leaves hundreds of MB of dirty pages in the kernel's cache (~300 MB at 2,000,000
    # rows), written out in one burst every 30 s while the application's commits wait on their WAL
    # fsyncs. Asking the kernel to write as the walk goes keeps the dirty pages small.
    backfill_flush_after_kb: int = Field(256, ge=0, le=2048, description="backend_flush_after for a backfill's "
                                         "batches: the kernel writes its pages out every this many kB instead of "
                                         "in one burst (0: the server's setting)")

    @field_validator("lock_timeout", "statement_timeout")
    @classmethod
    def _a_duration(cls, v: str) -> str:
        duration_ms(v)
        return v

    pg_version: int = Field(12, ge=9)
    migrations_dir: Optional[str] = None
    tool: Optional[Tool] = None
    include_rules: list[str] = Field(default_factory=list, description="opt-in validation rules to switch on")
    require_down: bool = Field(True, description="false for projects that ship up migrations only: no "
                               "missing-rollback findings (a folder without any down SQL is read as such)")
    dev_url: Optional[str] = Field(None, description="a PostgreSQL server of the user's own for the dev database, "
                                   "never the application's (default: embedded)")
    format_files: bool = Field(True, description="format the migrations Flux writes as the project does: its "
                               "prettier, Biome or oxfmt (from its node_modules) on JavaScript and TypeScript, "
                               "Alembic's post_write_hooks, black as Django's makemigrations runs it")
