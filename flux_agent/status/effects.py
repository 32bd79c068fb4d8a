"""What a step's SQL leaves in PostgreSQL's catalogs once it has run: read from the statements
themselves (pglast), not from the operation that wrote them, so a step of raw SQL or one a user
edited is judged by what it says. A statement that leaves nothing to see (a DO block's batches,
a SET) has no effect here."""

from __future__ import annotations

from typing import Literal, Optional

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType, ObjectType as OT
from pydantic import BaseModel

from ..pg.split import split_statements
from ..pg.quote import relation_name

Want = Literal["present", "absent", "valid", "validated", "not null", "nullable"]
Kind = Literal["table", "view", "column", "index", "constraint", "trigger", "function"]


class Effect(BaseModel):
    """One fact the catalogs show after the step: `name` of `kind` (on `table`) is `want`."""

    kind: Kind
    name: str
    table: Optional[str] = None
    want: Want = "present"

    def __str__(self) -> str:
        where = f" on {self.table}" if self.table and self.kind in ("index", "constraint", "trigger") else ""
        what = f"{self.table}.{self.name}" if self.kind == "column" else self.name
        return f"{self.kind} {what}{where} {self.want}"


def step_effects(sql: Optional[str]) -> list[Effect]:
    """The facts the step's statements leave, in order (a later one about the same object wins)."""
    out: dict[tuple, Effect] = {}
    for stmt in split_statements(sql or ""):
        for effect in _effects(stmt.node):
            key = (effect.kind, effect.table if effect.kind == "column" else None, effect.name)
            out.pop(key, None)
            out[key] = effect
    return list(out.values())


def _effects(node) -> list[Effect]:
    if isinstance(node, ast.CreateStmt):
        return [Effect(kind="table", name=relation_name(node.relation))]
    if isinstance(node, ast.ViewStmt):
        return [Effect(kind="view", name=relation_name(node.view))]
    if isinstance(node, ast.IndexStmt) and node.idxname:
        index = _in_schema_of(node.relation, node.idxname)
        return [Effect(kind="index", name=index, table=relation_name(node.relation), want="valid")]
    if isinstance(node, ast.AlterTableStmt) and node.objtype == OT.OBJECT_TABLE:
        table = relation_name(node.relation)
        return [e for cmd in node.cmds or () if isinstance(cmd, ast.AlterTableCmd) for e in _alter(table, cmd)]
    if isinstance(node, ast.RenameStmt):
        return _rename(node)
    if isinstance(node, ast.DropStmt):
        return _drop(node)
    if isinstance(node, ast.CreateTrigStmt):
        return [Effect(kind="trigger", name=node.trigname, table=relation_name(node.relation))]
    if isinstance(node, ast.CreateFunctionStmt):
        return [Effect(kind="function", name=".".join(n.sval for n in node.funcname))]
    return []


def _in_schema_of(rv, name: str) -> str:
    """An index or constraint lives in its table's schema."""
    return f"{rv.schemaname}.{name}" if rv.schemaname and rv.schemaname != "public" else name


def _alter(table: str, cmd: ast.AlterTableCmd) -> list[Effect]:
    sub = cmd.subtype
    if sub == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        return [Effect(kind="column", name=cmd.def_.colname, table=table)]
    if sub == AT.AT_DropColumn and cmd.name:
        return [Effect(kind="column", name=cmd.name, table=table, want="absent")]
    if sub == AT.AT_SetNotNull:
        return [Effect(kind="column", name=cmd.name, table=table, want="not null")]
    if sub == AT.AT_DropNotNull:
        return [Effect(kind="column", name=cmd.name, table=table, want="nullable")]
    if sub in (AT.AT_AddConstraint, AT.AT_AddIndexConstraint) and isinstance(cmd.def_, ast.Constraint):
        con = cmd.def_
        if not con.conname:
            return []
        checked = con.contype in (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN) and not con.skip_validation
        return [Effect(kind="constraint", name=con.conname, table=table, want="validated" if checked else "present")]
    if sub == AT.AT_ValidateConstraint and cmd.name:
        return [Effect(kind="constraint", name=cmd.name, table=table, want="validated")]
    if sub == AT.AT_DropConstraint and cmd.name:
        return [Effect(kind="constraint", name=cmd.name, table=table, want="absent")]
    return []


def _rename(node: ast.RenameStmt) -> list[Effect]:
    kind = node.renameType
    if kind == OT.OBJECT_COLUMN and node.relation is not None:
        table = relation_name(node.relation)
        return [Effect(kind="column", name=node.subname, table=table, want="absent"),
                Effect(kind="column", name=node.newname, table=table)]
    if kind == OT.OBJECT_TABLE and node.relation is not None:
        ns = node.relation.schemaname
        new = f"{ns}.{node.newname}" if ns and ns != "public" else node.newname
        return [Effect(kind="table", name=relation_name(node.relation), want="absent"), Effect(kind="table", name=new)]
    if kind == OT.OBJECT_TABCONSTRAINT and node.relation is not None:
        table = relation_name(node.relation)
        return [Effect(kind="constraint", name=node.subname, table=table, want="absent"),
                Effect(kind="constraint", name=node.newname, table=table)]
    if kind == OT.OBJECT_INDEX and node.relation is not None:
        return [Effect(kind="index", name=_in_schema_of(node.relation, node.relation.relname), want="absent"),
                Effect(kind="index", name=_in_schema_of(node.relation, node.newname))]
    return []


def _drop(node: ast.DropStmt) -> list[Effect]:
    kinds = {OT.OBJECT_TABLE: "table", OT.OBJECT_VIEW: "view", OT.OBJECT_INDEX: "index", OT.OBJECT_FUNCTION: "function"}
    out = []
    for obj in node.objects or ():
        if node.removeType in kinds:
            names = obj.objname if isinstance(obj, ast.ObjectWithArgs) else obj
            out.append(Effect(kind=kinds[node.removeType], name=".".join(n.sval for n in names), want="absent"))
        elif node.removeType == OT.OBJECT_TRIGGER:
            *table, trigger = [n.sval for n in obj]
            out.append(Effect(kind="trigger", name=trigger, table=".".join(table), want="absent"))
    return out
