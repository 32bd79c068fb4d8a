"""32-bit integer columns (int, integer, int4, serial) run out at 2^31."""

from pglast import ast

from ._rule import Rule, flags, passes
from ._squawk_compat import flag_columns, type_name

RULE = Rule(
    id="prefer-bigint-over-int",
    severity="warning",
    message="a 32-bit integer column can hit its 2,147,483,647 limit; widening it later rewrites the table",
    hint="use bigint (or bigserial / bigint GENERATED ... AS IDENTITY)",
    squawk="default",
    nodes=(ast.CreateStmt, ast.AlterTableStmt),
    examples=[
        flags("CREATE TABLE t (c int);"),
        flags("CREATE TABLE t (c integer);"),
        flags("CREATE TABLE t (c int4);"),
        flags("CREATE TABLE t (c serial);"),
        flags("CREATE TABLE t (c int[]);"),
        flags("CREATE TABLE t (c int GENERATED ALWAYS AS IDENTITY);"),
        flags("ALTER TABLE t ADD COLUMN c int;"),
        flags("ALTER TABLE t ALTER COLUMN c TYPE int;"),
        passes("CREATE TABLE t (c bigint);"),
        passes("CREATE TABLE t (c bigserial);"),
        passes("CREATE TABLE t (c smallint);"),
        passes("CREATE TABLE t (c int4range);"),
        passes("CREATE FOREIGN TABLE ft (c int) SERVER s;"),
        passes("CREATE DOMAIN d AS int;"),
    ],
)

_NAMES = {"int4", "integer", "serial", "serial4"}


def check(stmt, ctx):
    return flag_columns(stmt, lambda t: type_name(t) in _NAMES, RULE.message)
