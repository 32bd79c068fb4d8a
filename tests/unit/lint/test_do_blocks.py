"""What a DO block runs is judged as the file's own statements (lint/do_blocks.py, engine._do_block):
netbox renames indexes and constraints in DO blocks, drizzle wraps foreign keys in them, and a
`CREATE INDEX` inside one blocked writes unseen (no finding, no not-analysed)."""

from __future__ import annotations

import threading
from pathlib import Path

from flux_agent.entry.validate import validate_paths
from flux_agent.lint.context import FileContext
from flux_agent.lint.engine import lint_sql
from flux_agent.model.settings import Settings
from flux_agent.schema.replay.engine import replay_sql

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
SCHEMA = replay_sql("CREATE TABLE t (id bigint PRIMARY KEY, q text, x text);")
BLOCK = """DO $$
BEGIN
  CREATE INDEX t_q_idx ON t (q);
  IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 't_q_idx') THEN
    ALTER TABLE t ADD COLUMN must int NOT NULL;
  END IF;
  EXECUTE 'ALTER TABLE t DROP COLUMN x';
  EXECUTE format('ALTER TABLE %I ADD c int', 't');
EXCEPTION WHEN duplicate_object THEN
  DROP INDEX t_q_idx;
END $$;
"""


def found(sql: str, schema=SCHEMA) -> set[tuple[int, str]]:
    ctx = FileContext.for_settings(Settings(), path="m.sql", transactional=False, schema=schema)
    return {(f.line, f.rule) for f in lint_sql(sql, ctx)}


def test_the_statements_of_a_do_block_are_judged_at_their_lines():
    got = found(BLOCK)
    assert {(3, "require-concurrent-index-creation"), (5, "adding-required-field"),
            (7, "ban-drop-column")} <= got, got
    assert (8, "not-analysed") in got  # SQL built at run time: said, never passed over
    assert not {r for line, r in got if line == 10}  # the handler runs only when the block failed
    # one statement: what it runs is done whole or not at all, nothing to make rerunnable
    assert not {r for _, r in got if r == "prefer-robust-stmts"}


def test_a_block_whose_plpgsql_does_not_parse_is_said_not_analysed():
    """Passed over in silence it hid what it runs (polar's `RAISE NOTICE 'done %%', 1`, % doubled by
    the Alembic reader: the type change in the block went unjudged); another language's is not ours."""
    assert (1, "not-analysed") in found("DO $$ BEGIN ALTER TABLE t DROP COLUMN x; RAISE NOTICE 'a %%', 1; END $$;")
    assert (1, "not-analysed") in found("DO LANGUAGE plpgsql $$ BEGIN ALTER TABLE t DROP COLUMN x END $$;")
    assert (1, "not-analysed") not in found("DO LANGUAGE plperl $$ print 1; $$;")
    assert (1, "not-analysed") not in found("DO $$ BEGIN ALTER TABLE t DROP COLUMN x; RAISE NOTICE 'a %', 1; END $$;")


def test_an_ignore_comment_before_the_block_covers_what_it_runs():
    got = found("-- flux-ignore require-concurrent-index-creation: t is empty until the release\n" + BLOCK)
    assert (4, "require-concurrent-index-creation") not in got and (6, "adding-required-field") in got


def test_the_blocks_own_names_are_no_columns_and_a_loop_batches():
    """The corpus' batched backfill: an UPDATE bounded by the block's own variables, repeated by a LOOP
    that commits per batch (unknown columns last_id, next_id, and unbatched, before)."""
    batched = (CORPUS / "safe" / "batched_backfill_order_currency.sql").read_text()
    orders = replay_sql("CREATE TABLE orders (id bigint PRIMARY KEY, status text);")
    assert not {r for _, r in found(batched, orders) if r in ("unknown-table-or-column", "unbatched-data-change")}
    assert (2, "unbatched-data-change") in found("DO $$ BEGIN\nUPDATE t SET q = lower(q);\nEND $$;")


def test_workers_judge_a_do_block_as_one_process_does(tmp_path, monkeypatch):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_t.sql").write_text("CREATE TABLE t (id bigint PRIMARY KEY, q text, x text);\n")
    (folder / "002_block.sql").write_text(BLOCK.replace("END $$;", "END $$;\nCREATE TABLE made (id bigint);")
                                          .replace("BEGIN\n", "BEGIN\n  CREATE TABLE made_here (id bigint);\n", 1)
                                          + "CREATE INDEX made_here_id ON made_here (id);\n")
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    runs = []
    for jobs in ("1", "2"):
        monkeypatch.setenv("FLUX_VALIDATE_JOBS", jobs)
        _, findings = validate_paths([str(folder)], str(tmp_path))
        runs.append([f.model_dump() for f in findings])
    assert threading.active_count() == 1  # else judge_all judges in-process: the workers would not be tested
    assert runs[0] == runs[1]
    # the block made made_here: an index on it afterwards is on a new table
    assert not [f for f in runs[0] if f["rule"] == "require-concurrent-index-creation"
                and f["path"].endswith("002_block.sql") and f["line"] > 12], runs[0]
    assert Path(folder / "002_block.sql").exists()


def test_an_ignore_comment_inside_the_block_covers_the_statement_below_it():
    """Flux's own lock retry wraps a step's statements in a DO block, their ignore comments with them."""
    sql = ("DO $flux_retry$\nBEGIN\n  LOOP\n    BEGIN\n"
           "-- squawk-ignore renaming-table -- a view keeps the old name working until the code step\n"
           "ALTER TABLE t RENAME TO u;\nCREATE VIEW t AS SELECT * FROM u;\nALTER TABLE u RENAME TO w;\n"
           "      EXIT;\n    END;\n  END LOOP;\nEND\n$flux_retry$;\n")
    renames = sorted(line for line, rule in found(sql) if rule == "renaming-table")
    assert renames == [8], found(sql)  # the second rename has no comment of its own
