"""The guard a concurrent index build runs before itself, so the step heals a failed run.

A CREATE INDEX CONCURRENTLY that fails (cancelled, a deadlock, a unique violation) leaves an
INVALID index under its name, and run again its `IF NOT EXISTS` skips that index: the tool
records the step as done with an index PostgreSQL never uses. The guard drops such a leftover
first. It is a DO block because "drop it only when it is INVALID" needs a condition (an
unconditional DROP INDEX CONCURRENTLY would also drop a valid index built by a run the tool
failed to record, or one a constraint now owns). Inside DO the drop cannot be CONCURRENTLY, so
it takes a brief ACCESS EXCLUSIVE lock on the table, bounded by lock_timeout: an INVALID index
holds no data worth a scan, and a build still running in another session holds a lock the drop
waits for, so the guard fails after lock_timeout instead of dropping a build in progress.
"""

from __future__ import annotations

from ...pg.quote import dollar_quote, literal, qname, qname_in

# What the risk of a guarded build says; a writer whose tool cannot run the guard apart says NO_HEAL
# (the summary's checklist then names the status command for the reader's surface).
HEALS = "a failed build leaves an INVALID index: run again, the step drops it first and builds anew"
NO_HEAL = ("a failed build leaves an INVALID index that {tool} cannot drop in the same file (it sends the file "
           "as one query): if this build fails, drop that index (DROP INDEX CONCURRENTLY) before running "
           "the step again")


def drop_invalid_index_sql(table: str, index: str, lock_timeout: str) -> str:
    """A DO block dropping index `index` of `table` when (and only when) it is INVALID."""
    body = (
        "\n"
        "BEGIN\n"
        "  IF EXISTS (SELECT FROM pg_index\n"
        f"             WHERE indexrelid = to_regclass({literal(qname_in(table, index))})\n"
        f"               AND indrelid = to_regclass({literal(qname(table))}) AND NOT indisvalid) THEN\n"
        f"    SET LOCAL lock_timeout = {literal(lock_timeout)};\n"
        f"    DROP INDEX {qname_in(table, index)};\n"
        f"    RAISE NOTICE 'flux: dropped INVALID index % (left by a failed build); building it again', "
        f"{literal(index)};\n"
        "  END IF;\n"
        "END\n"
    )
    return f"DO {dollar_quote(body)};"
