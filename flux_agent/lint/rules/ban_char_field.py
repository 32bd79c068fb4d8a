"""char(n) / character / bpchar columns pad with spaces and compare oddly;
text or varchar is almost always what was meant."""

from pglast import ast

from ._rule import Rule, flags, passes
from ._squawk_compat import flag_columns, type_name

RULE = Rule(
    id="ban-char-field",
    severity="warning",
    message="a char(n) column pads values with spaces; it is almost always a mistake",
    hint="use text (with a CHECK on length if needed) or varchar",
    squawk="default",
    nodes=(ast.CreateStmt, ast.AlterTableStmt),
    examples=[
        flags("CREATE TABLE t (c char(10));"),
        flags("CREATE TABLE t (c character);"),
        flags("CREATE TABLE t (c bpchar);"),
        flags("CREATE TABLE t (c char[]);"),
        flags("ALTER TABLE t ADD COLUMN c char(2);"),
        passes("CREATE TABLE t (c varchar(10));"),
        passes("CREATE TABLE t (c text);"),
        passes("CREATE TYPE ty AS (c char(2));"),
    ],
)


def check(stmt, ctx):
    return flag_columns(stmt, lambda t: type_name(t) in ("bpchar", "char", "character"), RULE.message)
