"""32-bit integer columns (int, integer, int4, serial) run out at 2^31."""
# squawk default: yes

from ._squawk_compat import column_types, type_name

ID = "prefer-bigint-over-int"
SEVERITY = "warning"
MESSAGE = "a 32-bit integer column can hit its 2,147,483,647 limit; widening it later rewrites the table"
HINT = "use bigint (or bigserial / bigint GENERATED ... AS IDENTITY)"

_NAMES = {"int4", "integer", "serial", "serial4"}


def check(stmt, ctx):
    return any(type_name(t) in _NAMES for t in column_types(stmt.node))
