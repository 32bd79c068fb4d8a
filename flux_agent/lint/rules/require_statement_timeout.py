"""DDL with no `SET statement_timeout` earlier in the file: a statement that runs
longer than expected (a scan, a rewrite, a lock wait) holds its lock unbounded.
Reported once per file, at the first such statement, as squawk does."""
# squawk default: yes

from .require_lock_timeout import first_unprotected, must_stand_alone

ID = "require-statement-timeout"
SEVERITY = "warning"
MESSAGE = "DDL without SET statement_timeout first: a slower than expected statement holds its lock with no bound"
HINT = ("start the migration with SET statement_timeout = '5s' (SET LOCAL inside a transaction); "
        "use 0 only for steps meant to run long without blocking, such as VALIDATE or CONCURRENTLY")


def check(stmt, ctx):
    if not first_unprotected(stmt, ctx, ctx.statement_timeout_set):
        return None
    if must_stand_alone(stmt, ctx):
        return (MESSAGE + "; it must be alone in its file (the tool sends the file as one query), so no SET can "
                "precede it: set statement_timeout on the role or the connection, or ignore with a reason")
    return True
