"""varchar(n): raising the limit later needs ACCESS EXCLUSIVE on the table;
text with a CHECK on length changes without that."""

from pglast import ast

from ._rule import Rule, flags, passes
from ._squawk_compat import flag_columns, type_name

RULE = Rule(
    id="prefer-text-field",
    severity="warning",
    message="changing the length of a varchar(n) column later locks out reads and writes",
    hint="use text with a CHECK (length(col) <= n) constraint, which can be replaced NOT VALID",
    squawk="default",
    nodes=(ast.CreateStmt, ast.AlterTableStmt),
    examples=[
        flags("CREATE TABLE t (c varchar(10));"),
        flags("CREATE TABLE t (c character varying(5));"),
        flags("CREATE TABLE t (c varchar(5)[]);"),
        flags("ALTER TABLE t ADD COLUMN c varchar(256);"),
        flags("ALTER TABLE t ALTER COLUMN c TYPE varchar(1000);"),
        passes("CREATE TABLE t (c varchar);"),
        passes("CREATE TABLE t (c text);"),
    ],
)


def check(stmt, ctx):
    return flag_columns(stmt, lambda t: type_name(t) == "varchar" and t.typmods, RULE.message)
