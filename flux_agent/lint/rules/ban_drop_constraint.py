"""ALTER TABLE / ALTER DOMAIN ... DROP CONSTRAINT: a guarantee running code
relies on (uniqueness, a foreign key, a CHECK) is gone; not where the column keeps it (a CHECK
(col IS NOT NULL) dropped once the column is NOT NULL, strong_migrations' way to SET NOT NULL)."""

from pglast import ast
from pglast.enums import BoolExprType, NullTestType

from ...errors import FluxError
from ...pg.locks import added_constraint, alter_cmds
from ...pg.parse import parse_expr
from ...pg.quote import relation_name
from ._flux_common import column_of_null_check, names_table_of, set_not_null_earlier
from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, changes_column_or_domain

_NOT_NULL_CHECK = ("CREATE TABLE t (c int);\nALTER TABLE t ADD CONSTRAINT t_c_null CHECK (c IS NOT NULL) NOT VALID;\n"
                   "ALTER TABLE t ADD CONSTRAINT t_c_pos CHECK (c IS NOT NULL AND c > 0) NOT VALID;")

RULE = Rule(
    id="ban-drop-constraint",
    severity="error",
    message="dropping a constraint removes a guarantee that running code may rely on",
    hint=("make sure no code relies on the constraint, then say so: "
          "-- squawk-ignore ban-drop-constraint -- <why>"),
    squawk="default",
    reads_schema=True,  # a CHECK's expression, and whether its column is NOT NULL by then
    nodes=(ast.AlterTableStmt, ast.AlterDomainStmt),
    examples=[
        passes("ALTER TABLE t VALIDATE CONSTRAINT t_c_null;\nALTER TABLE t ALTER COLUMN c SET NOT NULL;\n"
               "ALTER TABLE t DROP CONSTRAINT t_c_null;", schema_sql=_NOT_NULL_CHECK, squawk_agrees=False,
               why="the column is NOT NULL now: the CHECK proved it for SET NOT NULL (strong_migrations' recipe, "
                   "mastodon's mentions.status_id), and dropping it loses nothing"),
        flags("ALTER TABLE t DROP CONSTRAINT t_c_null;", schema_sql=_NOT_NULL_CHECK,
              why="the column is still nullable: the CHECK is the guarantee"),
        passes("ALTER TABLE mentions VALIDATE CONSTRAINT mentions_status_id_null;\n"
               "ALTER TABLE mentions ALTER COLUMN status_id SET NOT NULL;\n"
               "ALTER TABLE mentions DROP CONSTRAINT mentions_status_id_null;", squawk_agrees=False,
               why="no schema: the CHECK's name says its column (strong_migrations' <table>_<column>_null), made "
                   "NOT NULL just before (mastodon's recipe)"),
        flags("ALTER TABLE mentions DROP CONSTRAINT mentions_status_id_null;",
              why="no schema, and nothing in the file makes the column NOT NULL"),
        flags("ALTER TABLE t ALTER COLUMN c SET NOT NULL;\nALTER TABLE t DROP CONSTRAINT t_c_pos;",
              schema_sql=_NOT_NULL_CHECK, why="a CHECK of more than NOT NULL"),
        flags("ALTER TABLE t DROP CONSTRAINT k;"),
        passes("ALTER TABLE t ADD CONSTRAINT k UNIQUE (a);\nALTER TABLE t DROP CONSTRAINT k;", squawk_agrees=False,
               why="a constraint this migration added: nothing running relies on it (a squashed migration's pair)"),
        flags("ALTER TABLE t DROP CONSTRAINT IF EXISTS k CASCADE;"),
        flags("ALTER DOMAIN d DROP CONSTRAINT k;"),
        passes("ALTER TABLE t ADD CONSTRAINT k CHECK (c > 0) NOT VALID;"),
        passes("ALTER TABLE t DROP COLUMN c;"),
        passes("ALTER TABLE t DROP CONSTRAINT t_u_fkey;\n"
               "ALTER TABLE t ADD CONSTRAINT t_u_fkey FOREIGN KEY (u) REFERENCES u (id) ON DELETE CASCADE NOT VALID;",
               why="added again under its name in the same transaction (TypeORM's generated foreign key changes)",
               squawk_agrees=False),
        flags("ALTER TABLE t DROP CONSTRAINT t_u_fkey;\n"
              "ALTER TABLE t ADD CONSTRAINT t_u_fkey FOREIGN KEY (u) REFERENCES u (id) NOT VALID;",
              transactional=False, why="autocommit: a moment without it"),
        flags("ALTER TABLE t DROP CONSTRAINT k, DROP CONSTRAINT j;\nALTER TABLE t ADD CONSTRAINT k CHECK (c > 0);",
              why="j is not added again"),
    ],
)


def _added_again(stmt, ctx) -> bool:
    """Is every constraint the statement drops added again, under its name on its table, later in the
    same transaction? TypeORM's generated migrations change a foreign key so (jellyseerr's
    fk_season_media, ON DELETE CASCADE): no other session sees the table without it."""
    node = stmt.node
    if not isinstance(node, ast.AlterTableStmt) or not ctx.in_transaction():
        return False
    later = ctx.statements[stmt.index + 1:]
    end = next((k for k, s in enumerate(later) if isinstance(s.node, ast.TransactionStmt)
                and getattr(s.node.kind, "name", None) in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK",
                                                           "TRANS_STMT_PREPARE")), len(later))
    # (a constraint added after the transaction ends leaves a moment without one)
    return _dropped(node) <= _added(later[:end], relation_name(node.relation))


def _dropped(node) -> set[str]:
    return {c.name for c in alter_cmds(node) if c.subtype == AT.AT_DropConstraint}


def _added(statements, table: str) -> set[str]:
    """The names of the constraints `statements` add to `table`."""
    return {con.conname for s in statements if isinstance(s.node, ast.AlterTableStmt)
            and relation_name(s.node.relation) == table
            for con in map(added_constraint, alter_cmds(s.node)) if con is not None}


def _kept_by_columns(stmt, ctx) -> bool:
    """Is every constraint the statement drops a CHECK of NOT NULL tests only, on columns NOT NULL by
    then (the schema as the file's earlier statements leave it)?"""
    node = stmt.node
    if not isinstance(node, ast.AlterTableStmt):
        return False
    name = relation_name(node.relation)
    table = names_table_of(ctx, stmt, name)
    for cmd in alter_cmds(node):
        if cmd.subtype != AT.AT_DropConstraint:
            continue
        if table is None:  # no schema: the CHECK's name says its column (strong_migrations' recipe, in one file)
            column = column_of_null_check(name, cmd.name)
            if column is None or not set_not_null_earlier(ctx, stmt, name, column):
                return False
            continue
        con = next((c for c in table.constraints if c.name == cmd.name), None)
        columns = _not_null_tests(con.expression) if con is not None and con.kind == "check" else None
        if not columns or any((c := table.column(name)) is None or c.nullable for name in columns):
            return False
    return True


def _not_null_tests(text) -> list[str] | None:
    """The columns of a CHECK made only of `col IS NOT NULL` tests (ANDed); None for anything else."""
    try:
        expr = parse_expr(text)
    except FluxError:
        return None
    tests = expr.args if isinstance(expr, ast.BoolExpr) and expr.boolop == BoolExprType.AND_EXPR else [expr]
    out = []
    for t in tests:
        if not (isinstance(t, ast.NullTest) and t.nulltesttype == NullTestType.IS_NOT_NULL
                and isinstance(t.arg, ast.ColumnRef) and isinstance(t.arg.fields[-1], ast.String)):
            return None
        out.append(t.arg.fields[-1].sval)
    return out


def check(stmt, ctx):
    if not changes_column_or_domain(stmt.node, "X", (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE),
                                    (AT.AT_DropConstraint,)):
        return None
    return None if _added_again(stmt, ctx) or _added_before(stmt, ctx) or _kept_by_columns(stmt, ctx) \
        else flag_if(True)


def _added_before(stmt, ctx) -> bool:
    """Did an earlier statement of this migration add every constraint the statement drops (on its
    table)? No running code relies on a guarantee this migration made (Django's squashed migrations
    add, then drop, a unique_together)."""
    node = stmt.node
    if not isinstance(node, ast.AlterTableStmt):
        return False
    return _dropped(node) <= _added(ctx.statements[:stmt.index], relation_name(node.relation))
