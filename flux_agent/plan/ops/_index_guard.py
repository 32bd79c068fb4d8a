"""The guard a concurrent index build runs before itself, so the step heals a failed run.

A CREATE INDEX CONCURRENTLY that fails (cancelled, a deadlock, a unique violation) leaves an
INVALID index under its name, and run again its `IF NOT EXISTS` skips that index: the tool
records the step as done with an index PostgreSQL never uses. The guard drops such a leftover
first. It is a DO block because "drop it only when it is INVALID" needs a condition (an
unconditional DROP INDEX CONCURRENTLY would also drop a valid index built by a run the tool
failed to record, or one a constraint now owns). Inside DO the drop cannot be CONCURRENTLY, so
it takes a brief ACCESS EXCLUSIVE lock on the table, which queues the application's queries
while it waits: it waits as every blocking step does (plan/lock_retry.py), a short lock_timeout
a try, letting go and pausing between tries. An INVALID index holds no data worth a scan, and a
build still running in another session holds a lock the drop never gets, so the guard fails
after its tries instead of dropping a build in progress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...pg.quote import dollar_quote, literal, qname, qname_in
from ..lock_retry import DECLARE, retry_loop

if TYPE_CHECKING:
    from ...model.plan import LockRetry

# What the risk of a guarded build says; a writer whose tool cannot run the guard apart says NO_HEAL
# (the summary's checklist then names the status command for the reader's surface).
HEALS = "a failed build leaves an INVALID index: run again, the step drops it first and builds anew"
NO_HEAL = ("a failed build leaves an INVALID index that {tool} cannot drop in the same file (it sends the file "
           "as one query): if this build fails, drop that index (DROP INDEX CONCURRENTLY) before running "
           "the step again")


def drop_invalid_index_sql(table: str, index: str, retry: LockRetry, statement_timeout: str) -> str:
    """A DO block dropping index `index` of `table` when (and only when) it is INVALID; its drop bounded
    as every step's statements are (`statement_timeout`, the settings')."""
    bound = literal(statement_timeout) if statement_timeout != "0" else "0"
    drop = (f"        SET LOCAL lock_timeout = {literal(f'{retry.wait_ms}ms')};\n"
            f"        SET LOCAL statement_timeout = {bound};\n"
            f"        DROP INDEX {qname_in(table, index)};")
    body = "\n".join([
        "",
        DECLARE,
        "BEGIN",
        "  IF EXISTS (SELECT FROM pg_index",
        f"             WHERE indexrelid = to_regclass({literal(qname_in(table, index))})",
        f"               AND indrelid = to_regclass({literal(qname(table))}) AND NOT indisvalid) THEN",
        *retry_loop(drop, retry, refused="the INVALID index is still there", indent="  "),
        f"    RAISE NOTICE 'flux: dropped INVALID index % (left by a failed build); building it again', "
        f"{literal(index)};",
        "  END IF;",
        "END",
        "",
    ])
    # The drop inside is judged as the file's own statement (lint/do_blocks.py): it says why it is not
    # CONCURRENTLY, in squawk's form (the rule is squawk's too; written the same where pglast is missing).
    why = ("-- squawk-ignore require-concurrent-index-deletion -- drops only an INVALID index a failed build left; "
           "a concurrent drop cannot run inside DO, and the lock is asked for with lock_timeout and retries")
    return f"{why}\nDO {dollar_quote(body)};"
