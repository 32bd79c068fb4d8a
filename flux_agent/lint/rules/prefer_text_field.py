"""varchar(n): raising the limit later needs ACCESS EXCLUSIVE on the table;
text with a CHECK on length changes without that."""
# squawk default: yes

from ._squawk_compat import column_types, type_name

ID = "prefer-text-field"
SEVERITY = "warning"
MESSAGE = "changing the length of a varchar(n) column later locks out reads and writes"
HINT = "use text with a CHECK (length(col) <= n) constraint, which can be replaced NOT VALID"


def check(stmt, ctx):
    return any(type_name(t) == "varchar" and t.typmods for t in column_types(stmt.node))
