"""A step's SQL retried on a lock timeout, as its migration file runs it: the statements
after its SET LOCALs go into one DO block that tries them, and where a try is not granted
its locks in time, lets go of everything it took (the try is a subtransaction), pauses
with backoff and tries again. One statement, so every migration tool can run it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ..model.plan import LockRetry

# Locks that queue the application's reads or writes while they wait: the steps taking one
# wait briefly and retry. Weaker locks (VALIDATE's SHARE UPDATE EXCLUSIVE) wait out their
# lock_timeout instead: nothing queues behind them, and a wait past deadlock_timeout is what
# makes PostgreSQL cancel an autovacuum holding the table.
BLOCKING = ("SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE")


def _runs_in_plpgsql(node) -> bool:
    """Can PL/pgSQL run this statement as it stands (no result to discard, no transaction
    control, nothing that refuses a transaction block)?"""
    from ..pg.parse import ast

    if isinstance(node, (ast.SelectStmt, ast.TransactionStmt, ast.VacuumStmt, ast.CopyStmt,
                         ast.ExplainStmt, ast.CallStmt)):
        return False
    return not (isinstance(node, ast.IndexStmt) and node.concurrent)


def _tag(sql: str) -> str:
    tag, n = "flux_retry", 0
    while f"${tag}$" in sql:
        n += 1
        tag = f"flux_retry{n}"
    return tag


def wrap(sql: Optional[str], retry: Optional["LockRetry"]) -> Optional[str]:
    """`sql` (one try of a step) as its file runs it: unchanged without `retry`, or when it has
    nothing after its SET LOCALs or holds a statement PL/pgSQL cannot run as it stands."""
    if not sql or retry is None:
        return sql
    # Imported here: the plan model (and so the MCP server's start) loads this module, and must
    # not load pglast until SQL is read.
    from ..pg.parse import ast
    from ..pg.split import cut_statements, split_statements

    stmts = split_statements(sql)
    texts = cut_statements(sql)  # the same statements, each with the comments before it
    first = next((i for i, st in enumerate(stmts) if not isinstance(st.node, ast.VariableSetStmt)), len(stmts))
    if first == len(stmts) or not all(_runs_in_plpgsql(st.node) for st in stmts[first:]):
        return sql
    tag = _tag(sql)
    return "\n".join(texts[:first] + [
        f"-- flux: retried on a lock timeout: {retry.tries} tries of at most {retry.wait_ms} ms each, "
        f"{retry.first_pause_ms} ms to {retry.max_pause_ms} ms apart",
        f"DO ${tag}$",
        "#variable_conflict use_column",
        DECLARE,
        "BEGIN",
        *retry_loop("\n".join(texts[first:]), retry),
        "END",
        f"${tag}$;",
    ])


# The variables retry_loop uses, declared by the block around it.
DECLARE = "DECLARE\n  flux_try integer := 1;\n  flux_pause double precision;"


def retry_loop(body: str, retry: "LockRetry", refused: str = "nothing was changed", indent: str = "") -> list[str]:
    """PL/pgSQL lines running `body` (statements that SET LOCAL lock_timeout first, or are run
    under the step's; indented as they stand) until a try gets its locks: a refused try is a
    subtransaction rolled back, so it holds nothing while it pauses. `refused` says what the last
    refusal leaves; `indent` goes before each of the loop's own lines."""
    tries, wait = retry.tries, retry.wait_ms
    lines = [
        "  LOOP",
        "    BEGIN",
        body,
        "      EXIT;",
        "    EXCEPTION WHEN lock_not_available THEN",
        f"      IF flux_try >= {tries} THEN",
        f"        RAISE EXCEPTION 'flux: locks not granted in % tries of {wait} ms; {refused}: run "
        "this migration again when the tables are quieter (pg_stat_activity shows who holds them)', flux_try",
        "          USING ERRCODE = 'lock_not_available';",
        "      END IF;",
        # Jitter: two migrations retrying against each other do not stay in step.
        f"      flux_pause := least({retry.max_pause_ms}, {retry.first_pause_ms} * 2 ^ (flux_try - 1)) "
        "* (0.5 + random() / 2);",
        f"      RAISE NOTICE 'flux: locks not granted within {wait} ms (try % of {tries}); trying again in % ms', "
        "flux_try, round(flux_pause);",
        "      PERFORM pg_sleep(flux_pause / 1000);",
        "      flux_try := flux_try + 1;",
        "    END;",
        "  END LOOP;",
    ]
    return [line if line is body else indent + line for line in lines]
