"""Statements that destroy data (DROP TABLE, DROP COLUMN, TRUNCATE, DELETE or
UPDATE without WHERE) belong in a contract step, after the application stopped
using the data, or in a backfill step that is meant to rewrite it. Anywhere
else they run while the current release still needs what they remove, and a
rollback cannot bring the data back."""

from pglast import ast
from pglast.enums import AlterTableType as AT, ObjectType

from ...pg.quote import canonical_table, ident, relation_name
from ._flux_common import column_added_earlier
from ._rule import Rule, Verdict, flags, passes
from ._squawk_compat import existing_table_alter

RULE = Rule(
    id="destructive-outside-contract",
    severity="error",
    message="a destructive statement outside a contract or backfill step",
    hint=("stop using the data in a code deploy first, then remove it in its own contract migration "
          "(flux plan drop_table / drop_column), or add the WHERE clause that was meant"),
    squawk=None,
    nodes=(ast.DropStmt, ast.TruncateStmt, ast.DeleteStmt, ast.UpdateStmt, ast.AlterTableStmt),
    examples=[
        flags("DROP TABLE legacy_events;"),
        flags("DROP TABLE legacy_events;", phase="expand"),
        flags("TRUNCATE legacy_events;"),
        passes("ALTER TABLE users ADD COLUMN note text;\nALTER TABLE users DROP COLUMN note;",
               why="a column this migration added holds nothing anyone wrote (netbox's AddField then RemoveField)"),
        flags("DELETE FROM legacy_events;"),
        flags("UPDATE orders SET status = 'archived';"),
        flags("ALTER TABLE orders DROP COLUMN note;", phase="migrate"),
        passes("DROP TABLE legacy_events;", phase="contract"),
        passes("UPDATE orders SET status = upper(status);", phase="backfill"),
        passes("DELETE FROM legacy_events WHERE kind = 'debug';"),
        passes("CREATE TABLE import_rows (id bigint PRIMARY KEY);\nDELETE FROM import_rows;\nDROP TABLE import_rows;"),
        passes("ALTER TABLE orders ADD COLUMN flag boolean;\nUPDATE orders SET flag = true;",
               why="the column is new: no old values to lose"),
    ],
)

_ALLOWED_PHASES = {"contract", "backfill"}


def _name(parts) -> str:
    text = ".".join(ident(p.sval) for p in parts)
    try:
        return canonical_table(text)
    except Exception:
        return text


def check(stmt, ctx):
    if ctx.phase in _ALLOWED_PHASES:
        return None
    n = stmt.node
    if isinstance(n, ast.DropStmt) and n.removeType == ObjectType.OBJECT_TABLE:
        names = [_name(obj) for obj in n.objects or ()]
        old = [t for t in names if not ctx.table_is_new(t)]
        if old:
            return Verdict(f"DROP TABLE {', '.join(old)} deletes every row, and a rollback cannot restore them")
        return None
    if isinstance(n, ast.TruncateStmt):
        names = [relation_name(r) for r in n.relations or ()]
        old = [t for t in names if not ctx.table_is_new(t)]
        if old:
            return Verdict(f"TRUNCATE {', '.join(old)} deletes every row, and a rollback cannot restore them")
        return None
    if isinstance(n, ast.DeleteStmt) and n.whereClause is None:
        table = relation_name(n.relation)
        if not ctx.table_is_new(table):
            return Verdict(f"DELETE FROM {table} without WHERE deletes every row")
        return None
    if isinstance(n, ast.UpdateStmt) and n.whereClause is None:
        table = relation_name(n.relation)
        targets = [t.name for t in n.targetList or () if isinstance(t, ast.ResTarget) and t.name]
        old_data = [c for c in targets if not column_added_earlier(ctx, stmt, table, c)]
        if not ctx.table_is_new(table) and (old_data or not targets):
            cols = ", ".join(old_data)
            return Verdict(f"UPDATE {table} without WHERE overwrites {cols or 'columns'} in every row; the old "
                           "values are lost")
        return None
    table, cmds = existing_table_alter(stmt, ctx, ObjectType.OBJECT_TABLE)
    for cmd in cmds:
        # a column this migration added holds nothing anyone wrote (Django's AddField then RemoveField)
        if cmd.subtype == AT.AT_DropColumn and cmd.name and not column_added_earlier(ctx, stmt, table, cmd.name):
            return Verdict(f"DROP COLUMN {table}.{cmd.name} deletes its values, and a rollback cannot restore them")
    return None
