"""Renaming a view, materialized view, foreign table, index, sequence, schema,
type (or an enum value), domain, function, procedure, aggregate, trigger,
policy, constraint, database or role: whatever refers to the old name breaks."""

from pglast import ast

from ._rule import FLAGGED, Rule, Verdict, flags, passes
from ._squawk_compat import OT

RULE = Rule(
    id="renaming-object",
    severity="error",
    message="renaming this object breaks running code that still uses the old name",
    hint="move every user to the new name first, then say so: -- squawk-ignore renaming-object -- <why>",
    squawk="default",
    nodes=(ast.AlterEnumStmt, ast.RenameStmt),
    examples=[
        flags("ALTER VIEW v RENAME TO w;"),
        flags("ALTER MATERIALIZED VIEW mv RENAME TO mw;"),
        flags("ALTER FOREIGN TABLE ft RENAME TO fu;"),
        flags("ALTER INDEX i RENAME TO j;", severity="warning"),
        flags("ALTER SEQUENCE s RENAME TO s2;"),
        flags("ALTER SCHEMA s RENAME TO s2;"),
        flags("ALTER TYPE ty RENAME TO tz;"),
        flags("ALTER TYPE ty RENAME VALUE 'a' TO 'b';"),
        flags("ALTER DOMAIN d RENAME TO d2;"),
        flags("ALTER DOMAIN d RENAME CONSTRAINT a TO b;"),
        flags("ALTER FUNCTION f() RENAME TO g;"),
        flags("ALTER PROCEDURE p() RENAME TO q;"),
        flags("ALTER AGGREGATE a(int) RENAME TO b;"),
        flags("ALTER TABLE t RENAME CONSTRAINT k TO k2;", severity="warning"),  # only ON CONFLICT ON CONSTRAINT names it
        flags("ALTER TRIGGER tr ON t RENAME TO tr2;"),
        flags("ALTER POLICY p ON t RENAME TO p2;"),
        flags("ALTER DATABASE d RENAME TO e;"),
        flags("ALTER ROLE r RENAME TO s;"),
        passes("ALTER TABLE t RENAME TO u;"),
        passes("ALTER TABLE t RENAME COLUMN a TO b;"),
        passes("ALTER COLLATION c RENAME TO d;"),
        passes("ALTER TYPE ty ADD VALUE 'c';"),
        passes("ALTER TYPE \"Status\" RENAME TO \"Status_old\";\nALTER TYPE \"Status_new\" RENAME TO \"Status\";",
               squawk_agrees=False, why="Prisma's enum swap in one transaction: running code sees the same name "
                                        "before and after (formbricks)"),
        flags("ALTER TYPE \"Status\" RENAME TO \"Status_old\";\nALTER TYPE \"Status_new\" RENAME TO \"Status\";",
              transactional=False),
    ],
)

_KINDS = {OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_INDEX, OT.OBJECT_SEQUENCE,
          OT.OBJECT_SCHEMA, OT.OBJECT_TYPE, OT.OBJECT_DOMAIN, OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE,
          OT.OBJECT_ROUTINE, OT.OBJECT_AGGREGATE, OT.OBJECT_TRIGGER, OT.OBJECT_POLICY, OT.OBJECT_TABCONSTRAINT,
          OT.OBJECT_DOMCONSTRAINT, OT.OBJECT_DATABASE, OT.OBJECT_ROLE}


# Running code rarely names an index or a constraint: ON CONFLICT ON CONSTRAINT, error handling that
# matches a name (an index backing a unique constraint renames the constraint with it). A warning
# (formbricks: 45 index renames Prisma wrote, each an error before).
_NAMED = Verdict("renaming an index or constraint breaks running code that names it: ON CONFLICT ON CONSTRAINT "
                 "<old name>, or error handling that matches the name", severity="warning")


def _old_name(n) -> str | None:
    """The name a RenameStmt of a type takes away."""
    return n.object[-1].sval if isinstance(n.object, tuple) and n.object and isinstance(
        n.object[-1], ast.String) else None


def _swapped(stmt, ctx) -> bool:
    """A type renamed away, another renamed to its name in the same transaction (Prisma's enum
    change: `RENAME TO "X_old"`, `"X_new" RENAME TO "X"`): the name running code uses stays."""
    if not ctx.in_transaction():
        return False
    renames = [(s.index, _old_name(s.node), s.node.newname) for s in ctx.statements
               if isinstance(s.node, ast.RenameStmt) and s.node.renameType == OT.OBJECT_TYPE]
    mine = next((r for r in renames if r[0] == stmt.index), None)
    if mine is None:
        return False
    _, old, new = mine  # its name taken by another, or it takes another's
    return any(n == old for _, _, n in renames) or any(o == new for _, o, _ in renames)


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.AlterEnumStmt) and n.oldVal is not None:
        return Verdict("renaming an enum value breaks running code that still writes or compares the old value")
    if not isinstance(n, ast.RenameStmt) or n.renameType not in _KINDS:
        return None
    if n.renameType == OT.OBJECT_TYPE and _swapped(stmt, ctx):
        return None
    return _NAMED if n.renameType in (OT.OBJECT_TABCONSTRAINT, OT.OBJECT_INDEX) else FLAGGED
