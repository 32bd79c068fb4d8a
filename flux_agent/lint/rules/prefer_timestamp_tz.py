"""timestamp (without time zone) drops the UTC offset: two instants hours
apart can be stored as the same value."""

from pglast import ast

from ._rule import Rule, flags, passes
from ._squawk_compat import flag_columns, type_name

_SQUAWK_MISSES = ("the same type through another spelling, which squawk's syntax-based check does not "
                  "recognise")

RULE = Rule(
    id="prefer-timestamp-tz",
    severity="warning",
    message="a timestamp column without time zone drops the UTC offset of the values written to it",
    hint="use timestamptz (timestamp with time zone)",
    squawk="default",  # squawk also accepts the alias prefer-timestamptz; it prints this id
    nodes=(ast.CreateStmt, ast.AlterTableStmt),
    examples=[
        flags("CREATE TABLE t (c timestamp);"),
        flags("CREATE TABLE t (c timestamp without time zone);"),
        flags("CREATE TABLE t (c timestamp(3));"),
        flags("CREATE TABLE t (c timestamp[]);"),
        flags("ALTER TABLE t ALTER COLUMN c TYPE timestamp;"),
        flags("CREATE TABLE t (c pg_catalog.timestamp);",
              squawk_agrees=False, why=_SQUAWK_MISSES),
        flags("CREATE TABLE t (c \"timestamp\");",
              squawk_agrees=False, why=_SQUAWK_MISSES),
        passes("CREATE TABLE t (c timestamptz);"),
        passes("CREATE TABLE t (c timestamp with time zone);"),
        passes("CREATE TABLE t (c time);"),
    ],
)


def check(stmt, ctx):
    return flag_columns(stmt, lambda t: type_name(t) == "timestamp", RULE.message)
