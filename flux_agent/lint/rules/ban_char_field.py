"""char(n) / character / bpchar columns pad with spaces and compare oddly;
text or varchar is almost always what was meant."""
# squawk default: yes

from ._squawk_compat import column_types, type_name

ID = "ban-char-field"
SEVERITY = "warning"
MESSAGE = "a char(n) column pads values with spaces; it is almost always a mistake"
HINT = "use text (with a CHECK on length if needed) or varchar"


def check(stmt, ctx):
    return any(type_name(t) in ("bpchar", "char", "character") for t in column_types(stmt.node))
