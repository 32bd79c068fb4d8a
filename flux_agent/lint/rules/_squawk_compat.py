"""What a statement does, read from its parse tree the way squawk reads it: helpers the
rules share (not a rule: the loader skips `_` modules)."""

from __future__ import annotations

from typing import Iterator, Optional

from pglast import ast
from pglast.enums import AlterTableType as AT, ObjectType as OT

from ...pg.locks import added_constraint, alter_cmds
from ...pg.quote import relation_name
from ._rule import FLAGGED, Verdict

__all__ = ["AT", "OT", "alter_cmds_of", "has_cmd", "changes_column_or_domain", "dropped", "typed_columns", "flag_columns",
           "type_name", "created_earlier", "is_new_table", "existing_table_alter", "added_constraints",
           "index_built_in_place"]


def existing_table_alter(stmt, ctx, objtype=None) -> tuple[Optional[str], list[ast.AlterTableCmd]]:
    """(table, commands) of an ALTER TABLE (of `objtype`, when given) on a table this migration
    did not create; (None, []) for anything else. A table created here is empty and unseen:
    scanning, rewriting or locking it costs nothing."""
    n = stmt.node
    if not isinstance(n, ast.AlterTableStmt) or (objtype is not None and n.objtype != objtype):
        return None, []
    found = stmt.memo.get("altered")  # asked by a dozen rules of each ALTER TABLE
    if found is None:
        found = stmt.memo["altered"] = (relation_name(n.relation), alter_cmds(n))
    return (None, []) if ctx.table_is_new(found[0]) else found


def added_constraints(cmds, contype) -> Iterator[tuple[ast.Constraint, Optional[ast.ColumnDef]]]:
    """In command order: (constraint, None) for each ADD CONSTRAINT of `contype`, and
    (constraint, column) for each ADD COLUMN that declares one inline."""
    for cmd in cmds:
        con = added_constraint(cmd)
        if con is not None and con.contype == contype:
            yield con, None
        elif cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            inline = next((c for c in cmd.def_.constraints or () if c.contype == contype), None)
            if inline is not None:
                yield inline, cmd.def_


def index_built_in_place(stmt, ctx, contype, column_message: str):
    """PRIMARY KEY and UNIQUE: an ADD CONSTRAINT not built from an existing index, or an ADD
    COLUMN declaring one (`column_message`, with {column}), on a table this migration did not
    create, builds its index under ACCESS EXCLUSIVE. The finding, or None."""
    _, cmds = existing_table_alter(stmt, ctx)  # indexing an empty new table is instant
    for con, column in added_constraints(cmds, contype):
        if column is not None:
            return Verdict(column_message.format(column=column.colname))
        if not con.indexname:
            return FLAGGED
    return None


def alter_cmds_of(node, *objtypes) -> list[ast.AlterTableCmd]:
    """The commands of an ALTER TABLE / FOREIGN TABLE / VIEW / TYPE ... statement of one of `objtypes`."""
    if isinstance(node, ast.AlterTableStmt) and node.objtype in objtypes:
        return [c for c in node.cmds or () if isinstance(c, ast.AlterTableCmd)]
    return []


def has_cmd(node, objtypes, subtypes, pred=None) -> bool:
    return any(c.subtype in subtypes and (pred is None or pred(c)) for c in alter_cmds_of(node, *objtypes))


def changes_column_or_domain(node, domain_subtype: str, objtypes, subtypes, pred=None) -> bool:
    """ALTER DOMAIN of `domain_subtype` ('X' drop constraint, 'N' drop not null, 'T' default),
    or an ALTER TABLE / FOREIGN TABLE / VIEW on `objtypes` with a command in `subtypes`;
    `pred` (on the domain statement or the command) narrows either."""
    if isinstance(node, ast.AlterDomainStmt):
        return node.subtype == domain_subtype and (pred is None or pred(node))
    return has_cmd(node, objtypes, subtypes, pred)


def dropped(node, *types) -> bool:
    return isinstance(node, ast.DropStmt) and node.removeType in types


def typed_columns(node):
    """(column name, its type) where squawk looks: CREATE TABLE columns, ALTER TABLE ADD COLUMN and
    ALTER COLUMN ... TYPE; the name None where the tree gives none."""
    if isinstance(node, ast.CreateStmt):
        for el in node.tableElts or ():
            if isinstance(el, ast.ColumnDef) and el.typeName is not None:
                yield el.colname, el.typeName
    for cmd in alter_cmds_of(node, OT.OBJECT_TABLE):
        if cmd.subtype in (AT.AT_AddColumn, AT.AT_AlterColumnType) and isinstance(cmd.def_, ast.ColumnDef) \
                and cmd.def_.typeName is not None:
            yield cmd.def_.colname or cmd.name, cmd.def_.typeName


def flag_columns(stmt, picked, message: str):
    """A verdict naming the columns of the statement whose type `picked(type)` holds (a CREATE TABLE
    of many columns said which), `message` after them; None where none does."""
    columns = stmt.memo.get("typed_columns")  # asked by six rules of each statement
    if columns is None:
        columns = stmt.memo["typed_columns"] = list(typed_columns(stmt.node))
    names = [name for name, tn in columns if picked(tn)]
    if not names:
        return None
    shown = ", ".join(dict.fromkeys(n for n in names if n)) or "a column"
    return Verdict(f"{shown}: {message}")


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
