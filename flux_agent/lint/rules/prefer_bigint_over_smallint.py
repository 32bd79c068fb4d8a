"""16-bit integer columns (smallint, int2, smallserial) run out at 32,767."""
# squawk default: yes

from ._squawk_compat import column_types, type_name

ID = "prefer-bigint-over-smallint"
SEVERITY = "warning"
MESSAGE = "a smallint column can hit its 32,767 limit; widening it later rewrites the table"
HINT = "use bigint"

_NAMES = {"int2", "smallint", "smallserial", "serial2"}


def check(stmt, ctx):
    return any(type_name(t) in _NAMES for t in column_types(stmt.node))
