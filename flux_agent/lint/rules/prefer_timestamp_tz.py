"""timestamp (without time zone) drops the UTC offset: two instants hours
apart can be stored as the same value."""
# squawk default: yes (squawk also accepts the alias prefer-timestamptz; it prints this id)

from ._squawk_compat import column_types, type_name

ID = "prefer-timestamp-tz"
SEVERITY = "warning"
MESSAGE = "a timestamp column without time zone drops the UTC offset of the values written to it"
HINT = "use timestamptz (timestamp with time zone)"


def check(stmt, ctx):
    return any(type_name(t) == "timestamp" for t in column_types(stmt.node))
