"""ADD GENERATED ... AS IDENTITY, DROP IDENTITY, SET GENERATED ALWAYS: inserts
from running code that write (or omit) the column start failing."""
# squawk default: yes

from ._squawk_compat import AT, OT, alter_cmds_of

ID = "ban-alter-identity"
SEVERITY = "error"
MESSAGE = "changing a column's identity breaks inserts from running code"
HINT = ("check every insert against the new identity behaviour, then say so: "
        "-- squawk-ignore ban-alter-identity -- <why>")

_ALWAYS = ord("a")  # ATTRIBUTE_IDENTITY_ALWAYS


def _sets_always(cmd) -> bool:
    return any(getattr(d, "defname", None) == "generated" and getattr(d.arg, "ival", None) == _ALWAYS
               for d in cmd.def_ or ())


def check(stmt, ctx):
    for cmd in alter_cmds_of(stmt.node, OT.OBJECT_TABLE):
        if cmd.subtype in (AT.AT_AddIdentity, AT.AT_DropIdentity):
            return True
        if cmd.subtype == AT.AT_SetIdentity and _sets_always(cmd):
            return True
    return None
