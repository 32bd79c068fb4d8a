"""DROP EXTENSION: the functions, types and operators it provided disappear."""
# squawk default: yes

from ._squawk_compat import OT, dropped

ID = "ban-drop-extension"
SEVERITY = "error"
MESSAGE = "dropping an extension removes functions and types that running code may use"
HINT = "stop using the extension's objects first, then say so: -- squawk-ignore ban-drop-extension -- <why>"


def check(stmt, ctx):
    return dropped(stmt.node, OT.OBJECT_EXTENSION)
