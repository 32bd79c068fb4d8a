"""16-bit integer columns (smallint, int2, smallserial) run out at 32,767."""

from pglast import ast

from ._rule import Rule, flags, passes
from ._squawk_compat import flag_columns, type_name

RULE = Rule(
    id="prefer-bigint-over-smallint",
    severity="warning",
    message="a smallint column can hit its 32,767 limit; widening it later rewrites the table",
    hint="use bigint",
    squawk="default",
    nodes=(ast.CreateStmt, ast.AlterTableStmt),
    examples=[
        flags("CREATE TABLE t (c smallint);"),
        flags("CREATE TABLE t (c int2);"),
        flags("CREATE TABLE t (c smallserial);"),
        flags("ALTER TABLE t ADD COLUMN c smallint;"),
        passes("CREATE TABLE t (c bigint);"),
        passes("CREATE TABLE t (c int);"),
    ],
)

_NAMES = {"int2", "smallint", "smallserial", "serial2"}


def check(stmt, ctx):
    return flag_columns(stmt, lambda t: type_name(t) in _NAMES, RULE.message)
