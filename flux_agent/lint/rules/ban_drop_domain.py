"""DROP DOMAIN: columns and code typed with the domain break."""
# squawk default: yes

from ._squawk_compat import OT, dropped

ID = "ban-drop-domain"
SEVERITY = "error"
MESSAGE = "dropping a domain breaks running code that uses it"
HINT = "stop using the domain first, then say so: -- squawk-ignore ban-drop-domain -- <why>"


def check(stmt, ctx):
    return dropped(stmt.node, OT.OBJECT_DOMAIN)
