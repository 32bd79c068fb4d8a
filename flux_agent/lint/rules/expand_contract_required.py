"""A rename, a rewriting type change or a column drop done in one step on a live
table. Application servers still running the previous release use the old
name or type the moment the migration commits, so their queries fail until
every server is replaced. Expand/contract keeps both shapes valid across the
deploy: add the new shape, sync and backfill, switch the code, then remove the old."""

from pglast import ast
from pglast.enums import AlterTableType as AT, ObjectType

from ...pg.quote import relation_name
from ...pg.types import binary_coercible, plain_using
from ._flux_common import column_added_earlier, op_command, plain_type, renames_a_sequence, working_names
from ._rule import Rule, Verdict, flags, passes
from ._squawk_compat import existing_table_alter

_SCHEMA = ("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n"
           "CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(200), total numeric(10,2));")

RULE = Rule(
    id="expand-contract-required",
    severity="error",
    message="a breaking schema change done in one step: the running application still uses the old shape",
    hint="split it into expand / backfill / code / contract steps; flux plan writes them",
    squawk=None,
    reads_schema=True,
    # the hint of each, followed, must leave the statement passing (a Sequelize project's renameColumn
    # stayed failing after `// squawk-ignore renaming-column -- <why>`)
    ignored_with=("renaming-column", "renaming-table", "changing-column-type", "ban-drop-column"),
    nodes=(ast.RenameStmt, ast.AlterTableStmt),  # a rename; a type change or a drop among ALTER TABLE's commands
    examples=[
        flags("ALTER TABLE users RENAME COLUMN email TO email_address;"),
        flags("ALTER TABLE orders RENAME TO purchases;"),
        passes("ALTER TABLE orders_id_seq RENAME TO purchases_id_seq;",
               why="a sequence: defaults hold it by oid (netbox's, after Django renamed the table)"),
        flags("ALTER TABLE orders ALTER COLUMN total TYPE bigint;", schema_sql=_SCHEMA),
        flags("ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);", schema_sql=_SCHEMA, why="shrinking: a scan"),
        flags("ALTER TABLE orders DROP COLUMN note;"),
        passes("-- squawk-ignore renaming-column -- nothing reads it any more\n"
               "ALTER TABLE users RENAME COLUMN email TO email_address;",
               why="said of renaming-column, the ignore covers this rule's finding on the same rename"),
        passes("ALTER TABLE orders ALTER COLUMN note TYPE text;", schema_sql=_SCHEMA, why="binary-coercible"),
        passes("ALTER TABLE orders DROP COLUMN note;", phase="contract"),
        passes("CREATE TABLE coupons (id bigint PRIMARY KEY, code text);\n"
               "ALTER TABLE coupons RENAME COLUMN code TO coupon_code;"),
        passes("ALTER TABLE orders RENAME TO purchases;\nCREATE VIEW orders AS SELECT * FROM purchases;",
               phase="expand", why="the view under the old name is the expand half"),
        passes("ALTER INDEX orders_status_idx RENAME TO orders_state_idx;"),
    ],
)

_MAYBE_COERCIBLE = {"text", "character varying", "numeric", "bit varying", "timestamp with time zone",
                    "timestamp without time zone", "time with time zone", "time without time zone"}


def _view_keeps_old_name(ctx, stmt, old: str) -> bool:
    for later in ctx.statements[stmt.index + 1:]:
        if isinstance(later.node, ast.ViewStmt) and relation_name(later.node.view) == old:
            return True
    return False


def _type_change_rewrites(ctx, stmt, table: str, cmd) -> bool:
    col_def = cmd.def_
    new = plain_type(col_def.typeName)
    if not plain_using(cmd):
        return True  # an expression computes every value again
    schema = working_names(ctx, stmt)  # the column's type as the replay names it, as `new` is named
    t = schema.table(table) if schema is not None else None
    col = t.column(cmd.name) if t is not None else None
    if col is None:  # old type unknown: flag only what can never be a catalog-only change
        base = new.split("(")[0].strip()
        return new.endswith("[]") or base not in _MAYBE_COERCIBLE
    try:
        return not binary_coercible(col.type, new)
    except Exception:
        return True


def check(stmt, ctx):
    if ctx.phase == "contract":
        return None
    n = stmt.node
    if isinstance(n, ast.RenameStmt) and n.relation is not None:
        table = relation_name(n.relation)
        if ctx.table_is_new(table):
            return None
        if n.renameType == ObjectType.OBJECT_COLUMN and n.relationType == ObjectType.OBJECT_TABLE:
            if column_added_earlier(ctx, stmt, table, n.subname):
                return None
            cmd = op_command({"op": "rename_column", "table": table, "column": n.subname, "new_name": n.newname})
            return Verdict(f"renaming {table}.{n.subname} to {n.newname} in one step breaks every running server "
                           f"that still reads {n.subname}; expand/contract instead: {cmd}")
        if n.renameType == ObjectType.OBJECT_TABLE:
            if renames_a_sequence(n, working_names(ctx, stmt)):
                return None
            if _view_keeps_old_name(ctx, stmt, table):
                return None  # the view under the old name is the expand half
            cmd = op_command({"op": "rename_table", "table": table, "new_name": n.newname})
            return Verdict(f"renaming table {table} to {n.newname} in one step breaks every running server that "
                           f"still queries {table}; expand/contract instead (a view keeps the old name): {cmd}")
        return None
    table, cmds = existing_table_alter(stmt, ctx, ObjectType.OBJECT_TABLE)
    for cmd in cmds:
        if cmd.subtype == AT.AT_AlterColumnType and isinstance(cmd.def_, ast.ColumnDef):
            if column_added_earlier(ctx, stmt, table, cmd.name) or not _type_change_rewrites(ctx, stmt, table, cmd):
                continue
            new = plain_type(cmd.def_.typeName)
            op = {"op": "change_column_type", "table": table, "column": cmd.name, "type": new}
            return Verdict(f"changing {table}.{cmd.name} to {new} rewrites the table under ACCESS EXCLUSIVE and "
                           f"changes what running servers read; use a shadow column instead: {op_command(op)}")
        if cmd.subtype == AT.AT_DropColumn and cmd.name:
            if column_added_earlier(ctx, stmt, table, cmd.name):
                continue
            cmd_text = op_command({"op": "drop_column", "table": table, "column": cmd.name})
            return Verdict(f"dropping {table}.{cmd.name} in one step breaks every running server that still selects "
                           f"or inserts it; deploy code that stops using it first, then drop it in a contract step: "
                           f"{cmd_text}")
    return None
