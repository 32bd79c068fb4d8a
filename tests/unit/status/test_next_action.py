"""The one next action `flux status` gives for a step not applied yet: its up files (not the down
files beside them, which undo it), and a drizzle by-hand file to be run by hand, not by the tool
(ai-chatbot: "Run step 1 (0015-01_manual_build_index....sql, ....down.sql) with the project's tool")."""

from __future__ import annotations

from flux_agent.model.plan import Step
from flux_agent.model.status import StepStatus
from flux_agent.status.report import _next


def _one(files: list[str]) -> str:
    step = Step(number=1, phase="expand", title="build an index", files=files, up_sql="SELECT 1")
    status = StepStatus(number=1, title=step.title, state="not applied", files=files)
    return _next([step], [status], {1})


def test_the_up_files_are_named_and_a_by_hand_file_is_run_by_hand():
    assert _one(["drizzle/0015-01_manual_build_index.sql", "drizzle/0015-01_manual_build_index.down.sql"]) == (
        "Run step 1 (drizzle/0015-01_manual_build_index.sql) by hand (psql -f), outside the project's migration tool.")
    assert _one(["migrations/3_idx.up.sql", "migrations/3_idx.down.sql"]) == (
        "Run step 1 (migrations/3_idx.up.sql) with the project's migration tool.")
