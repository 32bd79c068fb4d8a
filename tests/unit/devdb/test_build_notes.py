"""A build's notes beside a refusal: a plan refused where the history did not build says why the
schema may lack something, unless the note says the schema is the same without what was left out
(outline's data migrations that failed before sending a query: their note made "column
documents.title is already NOT NULL" a 400-character line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.devdb.program import explains_schema
from flux_agent.devdb.runners._python import UNTOUCHED, Tolerated
from flux_agent.entry import actions
from flux_agent.errors import FluxInputError

RUNNERS = Path(__file__).resolve().parents[3] / "flux_agent" / "devdb" / "runners"


def test_both_runners_say_it_in_the_words_told_apart():
    tolerated = Tolerated()
    tolerated.untouched.append(("m/0003_data.py", "ImportError: app"))
    [note] = tolerated.notes()
    assert UNTOUCHED in note and not explains_schema(note)
    js = (RUNNERS / "node_tolerant.cjs").read_text()
    assert "failed before sending any query, `\n    + `so the schema is the same" in js  # the words, wrapped
    assert explains_schema("db/001.sql:3: skipped: column \"x\" does not exist")


def _refused(monkeypatch, notes: list[str], tmp_path, column: str = "c") -> str:
    from flux_agent.model.schema import Column, Schema, Table

    schema = Schema(tables=[Table(name="t", columns=[Column(name="c", type="text", nullable=False)])])
    monkeypatch.setattr(actions, "_read_schema", lambda *a, **k: (schema, notes, None))
    with pytest.raises(FluxInputError) as err:
        actions.plan_migration([{"op": "set_not_null", "table": "t", "column": column}], str(tmp_path))
    return str(err.value)


def test_a_refusal_carries_only_the_notes_that_can_explain_it(monkeypatch, tmp_path):
    untouched = f"left out 4 migrations that {UNTOUCHED} without them: a.js, b.js (Command failed)"
    assert _refused(monkeypatch, [untouched], tmp_path, "d").startswith("unknown column 'd' on table 't'")
    assert "build cleanly" not in _refused(monkeypatch, [untouched], tmp_path, "d")
    skipped = "db/001.sql:3: skipped: relation \"x\" does not exist"
    assert _refused(monkeypatch, [untouched, skipped], tmp_path, "d").endswith(
        f"(the project's migrations do not build cleanly on PostgreSQL: {skipped})")


def test_a_refusal_a_missing_name_cannot_explain_carries_no_notes(monkeypatch, tmp_path):
    """A column already NOT NULL is no name the failed history left out (rallly's, upchieve's
    refusals said the migrations did not build cleanly, which was true and beside the point)."""
    skipped = "db/001.sql:3: skipped: relation \"x\" does not exist"
    assert _refused(monkeypatch, [skipped], tmp_path) == "column t.c is already NOT NULL"
