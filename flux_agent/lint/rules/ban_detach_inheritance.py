"""DETACH PARTITION / NO INHERIT on an existing table: rows vanish from what
clients read and write through the parent."""
# squawk default: no (opt-in)

from ._squawk_compat import AT, OT, has_cmd, is_new_table, opt_in

ID = "ban-detach-inheritance"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "detaching a partition or child changes which rows running clients see through the parent"
HINT = "move readers of those rows first, then say so: -- squawk-ignore ban-detach-inheritance -- <why>"

_CMDS = (AT.AT_DetachPartition, AT.AT_DetachPartitionFinalize, AT.AT_DropInherit)


def check(stmt, ctx):
    n = stmt.node
    return opt_in(ctx, ID) and has_cmd(n, (OT.OBJECT_TABLE,), _CMDS) and not is_new_table(ctx, stmt, n.relation)
