"""ALTER TABLE read back into operations: ADD/DROP/ALTER COLUMN (type, NOT NULL, default) and
ADD CONSTRAINT (foreign key, check, unique), one operation per sub-command."""

from __future__ import annotations

from typing import Optional

from ...model.operations import (AddCheck, AddColumn, AddForeignKey, AddUnique, ChangeColumnType, DropColumn,
                                 DropDefault, DropNotNull, Operation, SetDefault, SetNotNull)
from ...pg.parse import enums
from ...pg.types import plain_using
from ._names import expr, strings, table, type_text

_T = enums.AlterTableType
_C = enums.ConstrType
# pg_constraint's confdeltype letters; 'a' (NO ACTION) is what no ON DELETE clause means
_ON_DELETE = {"a": None, "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def operations(node) -> Optional[list[Operation]]:
    name = table(node.relation)
    if name is None or node.objtype != enums.ObjectType.OBJECT_TABLE or node.missing_ok:
        return None
    out: list[Operation] = []
    for cmd in node.cmds or ():
        op = _command(name, cmd)
        if op is None:
            return None  # one sub-command without an operation: the statement stays whole, as written
        out.append(op)
    return out or None


def _command(name: str, cmd) -> Optional[Operation]:
    kind = cmd.subtype
    if kind == _T.AT_AddColumn and not cmd.missing_ok:
        return _add_column(name, cmd.def_)
    if kind == _T.AT_DropColumn and cmd.behavior == enums.DropBehavior.DROP_RESTRICT and not cmd.missing_ok:
        return DropColumn(table=name, column=cmd.name)
    if kind == _T.AT_AlterColumnType and cmd.def_.collClause is None:
        new = type_text(cmd.def_.typeName)
        using = expr(cmd.def_.raw_default) if not plain_using(cmd) else None  # `USING c::type`: none
        return ChangeColumnType(table=name, column=cmd.name, type=new, using=using) if new else None
    if kind == _T.AT_SetNotNull:
        return SetNotNull(table=name, column=cmd.name)
    if kind == _T.AT_DropNotNull:
        return DropNotNull(table=name, column=cmd.name)
    if kind == _T.AT_ColumnDefault:
        if cmd.def_ is None:
            return DropDefault(table=name, column=cmd.name)
        return SetDefault(table=name, column=cmd.name, default=expr(cmd.def_))
    if kind == _T.AT_AddConstraint:
        return _constraint(name, cmd.def_)
    return None


def _add_column(name: str, col) -> Optional[Operation]:
    new = type_text(col.typeName)
    if new is None or col.collClause is not None or col.identity.strip("\x00") or col.generated.strip("\x00"):
        return None
    nullable, default = True, None
    for con in col.constraints or ():
        if con.contype == _C.CONSTR_NOTNULL:
            nullable = False
        elif con.contype == _C.CONSTR_NULL:
            nullable = True
        elif con.contype == _C.CONSTR_DEFAULT:
            default = expr(con.raw_expr)
        else:  # a key, reference or check on the new column: no single operation says it
            return None
    return AddColumn(table=name, column=col.colname, type=new, nullable=nullable, default=default)


def _constraint(name: str, con) -> Optional[Operation]:
    if con.deferrable or con.initdeferred or con.is_no_inherit:
        return None
    if con.contype == _C.CONSTR_FOREIGN:
        if con.fk_upd_action not in ("a", "\x00") or con.fk_matchtype not in ("s", "\x00") or con.fk_del_set_cols:
            return None  # ON UPDATE, MATCH FULL, SET NULL (cols): beyond add_foreign_key's fields
        ref = table(con.pktable)
        if ref is None or not con.pk_attrs:
            return None  # REFERENCES t without columns: the referenced key is PostgreSQL's to find
        return AddForeignKey(table=name, columns=strings(con.fk_attrs), ref_table=ref,
                             ref_columns=strings(con.pk_attrs), on_delete=_ON_DELETE.get(con.fk_del_action),
                             name=con.conname)
    if con.contype == _C.CONSTR_CHECK:
        return AddCheck(table=name, expression=expr(con.raw_expr), name=con.conname)
    if con.contype == _C.CONSTR_UNIQUE:
        if con.indexname or con.including or con.options or con.nulls_not_distinct or not con.keys:
            return None
        return AddUnique(table=name, columns=strings(con.keys), name=con.conname)
    return None
