"""Which tables replaying a statement can change, so a copy of a schema about to be replayed
need only copy those, and a replay need only normalise those again: the tables the statement
changes (not those its foreign keys reference), and where it drops, re-creates or renames a
table or a column, the tables whose foreign keys point at it (such keys go or follow).

Names are unqualified (a name stands for that name in every schema: search_path and schema
qualification cannot make the set too small). None means "any table": a statement whose
targets the tree does not name (DROP INDEX, a DO block, renames, which retarget keys and
enum types across the schema)."""

from __future__ import annotations

from typing import Optional

from pglast import ast
from pglast.enums import AlterTableType as AT, ObjectType as OT

from ...model.schema import Schema
from .engine import deep_copy
from .state import bare_names

_NO_TABLE = (ast.CreateEnumStmt, ast.AlterEnumStmt, ast.ViewStmt, ast.VariableSetStmt, ast.CreateExtensionStmt,
             ast.CreateRangeStmt, ast.CreateDomainStmt, ast.CompositeTypeStmt, ast.RefreshMatViewStmt)
_RELATIONS = (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW)
_NOTHING: "Touch" = (frozenset(), frozenset())

# (the tables a statement changes itself, the tables whose referencing foreign keys it can change)
Touch = tuple[frozenset, frozenset]


def touched(node) -> Optional[Touch]:
    """What replaying `node` can change, as the handlers of statements.py do (see the module)."""
    if isinstance(node, ast.CreateStmt):  # a table of the name is replaced: keys into it go
        names = frozenset([node.relation.relname] + [rv.relname for rv in node.inhRelations or ()])
        return names, frozenset([node.relation.relname])
    if isinstance(node, ast.CreateTableAsStmt):
        names = frozenset([node.into.rel.relname])
        return names, names
    if isinstance(node, ast.SelectStmt):  # SELECT INTO makes a table; any other query changes nothing
        names = frozenset([node.intoClause.rel.relname]) if node.intoClause is not None else frozenset()
        return names, names
    if isinstance(node, ast.IndexStmt):
        return frozenset([node.relation.relname]), frozenset()
    if isinstance(node, ast.AlterTableStmt):  # a dropped column takes the keys pointing at it
        names = frozenset([node.relation.relname])
        drops = any(isinstance(c, ast.AlterTableCmd) and c.subtype == AT.AT_DropColumn for c in node.cmds or ())
        return names, names if drops else frozenset()
    if isinstance(node, _NO_TABLE):
        return _NOTHING
    if isinstance(node, ast.DropStmt):
        if node.removeType in _RELATIONS:
            names = frozenset(o[-1].sval for o in node.objects or () if isinstance(o[-1], ast.String))
            return names, names
        return None if node.removeType in (OT.OBJECT_INDEX, OT.OBJECT_TYPE, OT.OBJECT_SCHEMA) else _NOTHING
    if isinstance(node, ast.RenameStmt):
        if node.renameType in _RELATIONS:  # the table under both names; keys into it follow it
            return frozenset([node.relation.relname, node.newname]), frozenset([node.relation.relname])
        if node.renameType == OT.OBJECT_COLUMN:
            return frozenset([node.relation.relname]), frozenset([node.relation.relname])
        if node.renameType == OT.OBJECT_TABCONSTRAINT:
            return frozenset([node.relation.relname]), frozenset()
        return None if node.renameType in (OT.OBJECT_INDEX, OT.OBJECT_TYPE) else _NOTHING
    return None


def union(touches) -> Optional[Touch]:
    """The Touch of several statements; None when one of them can change any table."""
    changed, dropped = set(), set()
    for t in touches:
        if t is None:
            return None
        changed |= t[0]
        dropped |= t[1]
    return frozenset(changed), frozenset(dropped)


def affected(schema: Schema, touch: Touch) -> set[int]:
    """The ids of the tables of `schema` that statements of this Touch can change."""
    changed, dropped = touch
    if dropped and dropped.isdisjoint(bare_names(t.name for t in schema.tables)):
        dropped = frozenset()  # no table of the name yet (a CREATE TABLE of a new name): no key points at it
    # split_key(key)[1], inlined as key.partition(".")[2] or key: every constraint of every table is asked
    return {id(t) for t in schema.tables if (t.name.partition(".")[2] or t.name) in changed
            or (dropped and any((c.ref_table.partition(".")[2] or c.ref_table) in dropped
                                for c in t.constraints if c.ref_table))}


def copy_for_replay(schema: Schema, touch: Optional[Touch]) -> Schema:
    """A copy of `schema` that replaying statements of this Touch cannot change the original
    through: the tables they can change copied, the others shared, read-only; a whole copy when
    `touch` is None. Copied through JSON (pydantic's core: twice as fast as
    through Python objects)."""
    if touch is None:
        return deep_copy(schema)
    ids = affected(schema, touch)
    out = deep_copy(schema.model_copy(update={"tables": []}))
    out.tables = [deep_copy(t) if id(t) in ids else t for t in schema.tables]
    return out

