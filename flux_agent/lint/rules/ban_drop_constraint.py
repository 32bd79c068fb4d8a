"""ALTER TABLE / ALTER DOMAIN ... DROP CONSTRAINT: a guarantee running code
relies on (uniqueness, a foreign key, a CHECK) is gone."""

from pglast import ast

from ...pg.locks import added_constraint, alter_cmds
from ...pg.quote import relation_name
from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, changes_column_or_domain

RULE = Rule(
    id="ban-drop-constraint",
    severity="error",
    message="dropping a constraint removes a guarantee that running code may rely on",
    hint=("make sure no code relies on the constraint, then say so: "
          "-- squawk-ignore ban-drop-constraint -- <why>"),
    squawk="default",
    nodes=(ast.AlterTableStmt, ast.AlterDomainStmt),
    examples=[
        flags("ALTER TABLE t DROP CONSTRAINT k;"),
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
    table = relation_name(node.relation)
    dropped = {c.name for c in alter_cmds(node) if c.subtype == AT.AT_DropConstraint}
    for later in ctx.statements[stmt.index + 1:]:
        kind = getattr(later.node, "kind", None)
        if isinstance(later.node, ast.TransactionStmt) and kind is not None and kind.name in (
                "TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE"):
            break  # the transaction ends: a constraint added after it leaves a moment without one
        if isinstance(later.node, ast.AlterTableStmt) and relation_name(later.node.relation) == table:
            dropped -= {con.conname for con in (added_constraint(c) for c in alter_cmds(later.node)) if con is not None}
    return not dropped


def check(stmt, ctx):
    if not changes_column_or_domain(stmt.node, "X", (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE),
                                    (AT.AT_DropConstraint,)):
        return None
    return None if _added_again(stmt, ctx) else flag_if(True)
