"""DDL with no `SET statement_timeout` earlier in the file: a statement that runs
longer than expected (a scan, a rewrite, a lock wait) holds its lock unbounded.
Reported once per file, at the first such statement, as squawk does."""

from ._rule import FLAGGED, Rule, flags, passes
from .require_lock_timeout import alone, first_unprotected, must_stand_alone

RULE = Rule(
    id="require-statement-timeout",
    severity="warning",
    message="DDL without SET statement_timeout first: a slower than expected statement holds its lock with no bound",
    hint=("start the migration with SET statement_timeout = '5s' (SET LOCAL inside a transaction); "
          "use 0 only for steps meant to run long without blocking, such as VALIDATE or CONCURRENTLY"),
    squawk="default",
    examples=[
        flags("ALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;"),
        flags("SET lock_timeout = '1s';\nALTER TABLE users ALTER COLUMN nick SET DEFAULT 'x';"),
        flags("CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);",
              transactional=False, one_query=True,
              hint="set statement_timeout on the role that runs the migrations (ALTER ROLE ... SET statement_timeout = '1s') or on the "
                   "connection (PGOPTIONS='-c statement_timeout=1s'), or ignore with a reason"),
        passes("SET statement_timeout = 0;\nALTER TABLE users VALIDATE CONSTRAINT users_fk;"),
        passes("SELECT count(*) FROM users;"),
        passes("CREATE TYPE mood AS ENUM ('ok', 'sad');\nCREATE DOMAIN pos AS int CHECK (VALUE > 0);",
               squawk_agrees=False, why="a new type or domain is a catalog entry: quick, and it locks no table"),
        flags("CREATE TYPE mood AS ENUM ('ok');\nALTER TABLE users ADD COLUMN IF NOT EXISTS m mood;",
              why="the ALTER after it is what needs the timeout"),
    ],
)


def check(stmt, ctx):
    if not first_unprotected(stmt, ctx, ctx.statement_timeout_set):
        return None
    if must_stand_alone(stmt, ctx):
        return alone(RULE.message, "statement_timeout")
    return FLAGGED
