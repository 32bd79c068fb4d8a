"""ALTER TABLE ... REPLICA IDENTITY: what logical replication and CDC
consumers receive for updates and deletes changes."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, has_cmd

RULE = Rule(
    id="ban-replica-identity",
    severity="warning",
    message="changing replica identity silently changes what replication consumers receive",
    hint="check every publication and consumer, then say so: -- squawk-ignore ban-replica-identity -- <why>",
    squawk="opt-in",
    nodes=(ast.AlterTableStmt,),
    opt_in=True,
    examples=[
        flags("ALTER TABLE t REPLICA IDENTITY FULL;"),
        flags("ALTER TABLE t REPLICA IDENTITY DEFAULT;"),
        passes("ALTER TABLE t ENABLE ROW LEVEL SECURITY;"),
    ],
)


def check(stmt, ctx):
    return flag_if(has_cmd(stmt.node, (OT.OBJECT_TABLE,), (AT.AT_ReplicaIdentity,)))
