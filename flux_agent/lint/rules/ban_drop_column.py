"""ALTER TABLE ... DROP COLUMN (also foreign tables, and DROP ATTRIBUTE of a
composite type): running code that still reads or writes the column fails."""

from pglast import ast

from ...pg.quote import relation_name
from ._flux_common import column_added_earlier
from ._rule import FLAGGED, Rule, Verdict, flags, passes
from ._squawk_compat import AT, OT, alter_cmds_of

RULE = Rule(
    id="ban-drop-column",
    severity="error",
    message="dropping a column breaks running code that still reads or writes it",
    hint=("stop using the column in the application first; in the contract step that drops it, "
          "say so: -- squawk-ignore ban-drop-column -- <why>"),
    squawk="default",
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE t DROP COLUMN c;"),
        flags("ALTER TABLE t DROP COLUMN IF EXISTS c CASCADE;"),
        flags("ALTER FOREIGN TABLE ft DROP COLUMN c;"),
        flags("ALTER TYPE ty DROP ATTRIBUTE a;"),
        passes("CREATE TABLE t (c text); ALTER TABLE t DROP COLUMN c;", squawk_agrees=False,
               why="a table this migration made: no running code knows it (squawk does not follow it)"),
        passes("ALTER TABLE t ADD COLUMN c text;\nALTER TABLE t DROP COLUMN c;", squawk_agrees=False,
               why="a column this migration added (netbox's AddField then RemoveField in one migration)"),
        flags("ALTER TABLE t ADD COLUMN c text;\nALTER TABLE t DROP COLUMN c, DROP COLUMN d;", why="d was there"),
        passes("ALTER TABLE t ADD COLUMN c text;"),
        passes("ALTER TABLE t DROP CONSTRAINT k;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    dropped = [c for c in alter_cmds_of(n, OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE) if c.subtype == AT.AT_DropColumn]
    if dropped:
        # a table or a column this migration made: no running code reads or writes it yet
        table = relation_name(n.relation)
        old = [c for c in dropped if not (ctx.table_is_new(table) or column_added_earlier(ctx, stmt, table, c.name))]
        return FLAGGED if old else None
    if any(c.subtype == AT.AT_DropColumn for c in alter_cmds_of(n, OT.OBJECT_TYPE)):
        return Verdict("dropping an attribute of a composite type breaks running code that reads it")
    return None
