"""SET NOT NULL scans the whole table under ACCESS EXCLUSIVE, unless (PostgreSQL 12+)
a validated CHECK (col IS NOT NULL) already proves it: then the scan is skipped."""

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType, NullTestType

from ...errors import FluxInputError
from ...pg.locks import added_constraint, alter_cmds
from ...pg.parse import parse_expr
from ...pg.quote import relation_name
from ...pg.types import not_null_uses_check
from ._flux_common import column_of_null_check, names_table_of
from ._rule import Rule, Verdict, flags, passes
from ._squawk_compat import existing_table_alter

_SCHEMA = ("CREATE TABLE orders (id bigint NOT NULL, note varchar(10), "
           "CONSTRAINT orders_note_not_null CHECK (note IS NOT NULL));\n"
           "CREATE TABLE users (id bigint NOT NULL, email text);\n"
           "ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;")

RULE = Rule(
    id="adding-not-nullable-field",
    severity="error",
    message="SET NOT NULL scans the whole table under ACCESS EXCLUSIVE, blocking reads and writes",
    hint=("ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT c in a later transaction, "
          "then SET NOT NULL (PostgreSQL 12+ skips the scan) and DROP CONSTRAINT c"),
    squawk="default",
    reads_schema=True,
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;"),
        flags("ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;\n"
              "ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;"),
        flags("BEGIN;\n"
              "ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;\n"
              "COMMIT;\n"
              "BEGIN;\n"
              "ALTER TABLE foo VALIDATE CONSTRAINT bar_not_null;\n"
              "ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;\n"
              "COMMIT;\n", transactional=False, pg_version=11,
              why="before 12 the validated CHECK does not skip the scan"),
        flags("ALTER TABLE users ALTER COLUMN email SET NOT NULL;", schema_sql=_SCHEMA,
              why="the schema's check is NOT VALID"),
        flags("ALTER TABLE orders ALTER COLUMN note SET NOT NULL;", pg_version=11, schema_sql=_SCHEMA),
        passes("BEGIN;\n"
               "ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;\n"
               "COMMIT;\n"
               "BEGIN;\n"
               "ALTER TABLE foo VALIDATE CONSTRAINT bar_not_null;\n"
               "ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;\n"
               "COMMIT;\n", transactional=False, pg_version=16),
        passes("ALTER TABLE orders ALTER COLUMN note SET NOT NULL;", schema_sql=_SCHEMA, squawk_agrees=False,
               why="the schema holds a VALIDATED check, which squawk cannot see"),
        passes("ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\n"
               "ALTER TABLE users ALTER COLUMN email SET NOT NULL;", schema_sql=_SCHEMA),
        passes("ALTER TABLE mentions VALIDATE CONSTRAINT mentions_status_id_null;\n"
               "ALTER TABLE mentions ALTER COLUMN status_id SET NOT NULL;",
               why="strong_migrations' name for the CHECK an earlier file added (mastodon's)"),
        flags("ALTER TABLE mentions VALIDATE CONSTRAINT mentions_account_id_null;\n"
              "ALTER TABLE mentions ALTER COLUMN status_id SET NOT NULL;", squawk_agrees=False,
              why="a CHECK of another column (squawk's default rules do not say it)"),
        passes("CREATE TABLE t (id bigint, c text);\nALTER TABLE t ALTER COLUMN c SET NOT NULL;",
               squawk_agrees=False, why="a table created in this migration is empty; squawk does not follow it"),
    ],
)


def _not_null_column(expr):
    """The column `expr` proves NOT NULL (`col IS NOT NULL`), else None."""
    if isinstance(expr, str):
        text = expr.strip()
        if text.upper().startswith("CHECK"):
            text = text[5:]
        try:
            expr = parse_expr(text, "check")
        except FluxInputError:
            return None
    if isinstance(expr, ast.NullTest) and expr.nulltesttype == NullTestType.IS_NOT_NULL \
            and isinstance(expr.arg, ast.ColumnRef) and isinstance(expr.arg.fields[-1], ast.String):
        return expr.arg.fields[-1].sval
    return None


def _proven(table, ctx, stmt):
    """Columns of `table` that a validated CHECK (col IS NOT NULL) covers before `stmt`."""
    known = names_table_of(ctx, stmt, table)  # a CHECK's shape and whether it is validated: the replay's names say them
    checks = {}  # constraint name -> column, for NOT NULL checks seen in this file or the schema
    proven = set()
    if known:
        for con in known.constraints:
            col = _not_null_column(con.expression) if con.kind == "check" and con.expression else None
            if col:
                checks[con.name] = col
                if con.validated:
                    proven.add(col)
    for s in ctx.statements[:stmt.index]:
        if not isinstance(s.node, ast.AlterTableStmt) or relation_name(s.node.relation) != table:
            continue
        for cmd in alter_cmds(s.node):
            con = added_constraint(cmd)
            if con is not None and con.contype == ConstrType.CONSTR_CHECK:
                col = _not_null_column(con.raw_expr)
                if col and con.conname:
                    checks[con.conname] = col
                if col and not con.skip_validation:
                    proven.add(col)
            elif cmd.subtype == AT.AT_ValidateConstraint:
                col = checks.get(cmd.name) or column_of_null_check(table, cmd.name)
                if col:
                    proven.add(col)
            elif cmd.subtype == AT.AT_DropConstraint and cmd.name in checks:
                proven.discard(checks.pop(cmd.name))
    return proven


def check(stmt, ctx):
    table, cmds = existing_table_alter(stmt, ctx)  # a table created in this migration is empty: no scan
    cols = [c.name for c in cmds if c.subtype == AT.AT_SetNotNull]
    known = names_table_of(ctx, stmt, table) if cols else None  # nullability: the replay's names say it
    if known:  # already NOT NULL: PostgreSQL has nothing to check
        cols = [c for c in cols if not (known.column(c) and not known.column(c).nullable)]
    if not cols:
        return None
    if not_null_uses_check(ctx.pg_version):
        proven = _proven(table, ctx, stmt)
        cols = [c for c in cols if c not in proven]
        if not cols:
            return None
        plan = f'flux plan --op \'{{"op":"set_not_null","table":"{table}","column":"{cols[0]}"}}\''
        return Verdict(f"SET NOT NULL on {table}.{cols[0]} scans the whole table under ACCESS EXCLUSIVE: "
                       f"no validated CHECK ({cols[0]} IS NOT NULL) is known to prove it ({plan} writes the steps)")
    return Verdict(f"SET NOT NULL on {table}.{cols[0]} scans the whole table under ACCESS EXCLUSIVE even with a "
                   f"validated CHECK before PostgreSQL 12: keep the validated CHECK ({cols[0]} IS NOT NULL) instead")
