"""Helpers shared by the squawk-compatible drop, rename, type and
compatibility rules (ban-drop-*, renaming-*, prefer-*, ban-alter-*, ...)."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT, ObjectType as OT

from ...pg.quote import relation_name

__all__ = ["AT", "OT", "opt_in", "alter_cmds_of", "has_cmd", "dropped", "column_types", "type_name",
           "created_earlier", "is_new_table"]


def opt_in(ctx, rule_id: str) -> bool:
    """squawk's opt-in rules (`squawk -i <rule>`) stay silent unless the run asks
    for them by id in ctx.include_rules (a set; absent means none)."""
    return rule_id in (getattr(ctx, "include_rules", None) or ())


def alter_cmds_of(node, *objtypes) -> list[ast.AlterTableCmd]:
    """The commands of an ALTER TABLE / FOREIGN TABLE / VIEW / TYPE ... statement of one of `objtypes`."""
    if isinstance(node, ast.AlterTableStmt) and node.objtype in objtypes:
        return [c for c in node.cmds or () if isinstance(c, ast.AlterTableCmd)]
    return []


def has_cmd(node, objtypes, subtypes, pred=None) -> bool:
    return any(c.subtype in subtypes and (pred is None or pred(c)) for c in alter_cmds_of(node, *objtypes))


def dropped(node, *types) -> bool:
    return isinstance(node, ast.DropStmt) and node.removeType in types


def column_types(node):
    """Column types where squawk looks: CREATE TABLE columns, ALTER TABLE ADD COLUMN
    and ALTER COLUMN ... TYPE."""
    if isinstance(node, ast.CreateStmt):
        for el in node.tableElts or ():
            if isinstance(el, ast.ColumnDef) and el.typeName is not None:
                yield el.typeName
    for cmd in alter_cmds_of(node, OT.OBJECT_TABLE):
        if cmd.subtype in (AT.AT_AddColumn, AT.AT_AlterColumnType) and isinstance(cmd.def_, ast.ColumnDef) \
                and cmd.def_.typeName is not None:
            yield cmd.def_.typeName


def type_name(tn: ast.TypeName) -> str:
    """The type's own name, without schema: int4, varchar, serial, timestamp, ..."""
    return tn.names[-1].sval if tn.names else ""


def _dotted(names) -> str:
    return relation_name(ast.RangeVar(schemaname=names[-2].sval if len(names) > 1 else None, relname=names[-1].sval))


def created_earlier(ctx, stmt) -> dict[str, set[str]]:
    """Tables, types and sequences created unconditionally (no IF NOT EXISTS) by
    statements before `stmt` in this file, as squawk counts them."""
    out: dict[str, set[str]] = {"table": set(), "type": set(), "sequence": set()}
    for s in ctx.statements[: stmt.index]:
        n = s.node
        if isinstance(n, ast.CreateStmt) and not n.if_not_exists:
            out["table"].add(relation_name(n.relation))
        elif isinstance(n, ast.CreateSeqStmt) and not n.if_not_exists:
            out["sequence"].add(relation_name(n.sequence))
        elif isinstance(n, ast.CompositeTypeStmt):
            out["type"].add(relation_name(n.typevar))
        elif isinstance(n, (ast.CreateEnumStmt, ast.CreateRangeStmt)):
            out["type"].add(_dotted(n.typeName))
        elif isinstance(n, ast.DefineStmt) and n.kind == OT.OBJECT_TYPE:
            out["type"].add(_dotted(n.defnames))
    return out


def is_new_table(ctx, stmt, rv) -> bool:
    """Created earlier in this file, or (when validating a plan) by this plan."""
    name = relation_name(rv)
    return name in created_earlier(ctx, stmt)["table"] or (ctx.phase is not None and ctx.table_is_new(name))
