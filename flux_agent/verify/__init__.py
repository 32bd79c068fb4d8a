"""`flux verify`: run a plan forward, back and forward again on a scratch PostgreSQL.

The runner (and psycopg, pglast, pgserver with it) loads on first use, so the
report models can be imported anywhere cheaply."""

from __future__ import annotations

from .report import StepResult, VerifyReport, render_report

__all__ = ["verify", "VerifyReport", "StepResult", "render_report"]


def verify(*args, **kwargs) -> VerifyReport:
    from .run import verify as run

    return run(*args, **kwargs)


verify.__doc__ = "See flux_agent.verify.run.verify."
