"""ALTER TABLE ... REPLICA IDENTITY: what logical replication and CDC
consumers receive for updates and deletes changes."""
# squawk default: no (opt-in)

from ._squawk_compat import AT, OT, has_cmd, opt_in

ID = "ban-replica-identity"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "changing replica identity silently changes what replication consumers receive"
HINT = "check every publication and consumer, then say so: -- squawk-ignore ban-replica-identity -- <why>"


def check(stmt, ctx):
    return opt_in(ctx, ID) and has_cmd(stmt.node, (OT.OBJECT_TABLE,), (AT.AT_ReplicaIdentity,))
