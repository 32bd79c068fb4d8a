"""The rollback of a safe statement `flux fix` keeps as written, where it is one obvious statement
(CREATE TABLE, ADD COLUMN or a named constraint, CREATE INDEX, CREATE TYPE or DOMAIN, a routine,
trigger, view or sequence it makes, a default or NOT NULL put back as the schema before the file
has it); "" where there is nothing to undo (a COMMENT, metadata a rollback may leave, storage
parameters of a table the file makes, which its rollback drops); None elsewhere (the plan then
says the step has no down SQL)."""

from __future__ import annotations

from typing import Optional

from ...model.schema import Schema
from ...pg.parse import ast, enums, expr, parse_sql
from ...pg.quote import canonical_table, ident, qname, relation_name
from ...pg.types import canonical_type
from ._names import strings, table


def inverse(node, schema: Optional[Schema] = None) -> Optional[str]:
    if isinstance(node, ast.CommentStmt):
        return ""
    if isinstance(node, ast.AlterTableStmt) and schema is not None and len(node.cmds or ()) == 1:
        back = _column_back(node, node.cmds[0], schema)
        if back is not None:
            return back
    if isinstance(node, ast.CreateStmt) and not node.if_not_exists and table(node.relation):
        return f"DROP TABLE {qname(table(node.relation))};"
    if isinstance(node, ast.AlterTableStmt) and table(node.relation) and node.cmds and all(
            c.subtype == enums.AlterTableType.AT_AddColumn and not c.missing_ok for c in node.cmds):
        drops = ", ".join(f"DROP COLUMN {ident(c.def_.colname)}" for c in node.cmds)
        return f"ALTER TABLE {qname(table(node.relation))} {drops};"
    if isinstance(node, (ast.CreateEnumStmt, ast.CreateRangeStmt)):
        return f"DROP TYPE {qname('.'.join(strings(node.typeName)))};"
    if isinstance(node, ast.CompositeTypeStmt) and node.typevar is not None:
        return f"DROP TYPE {qname(relation_name(node.typevar))};"
    if isinstance(node, ast.CreateDomainStmt):
        return f"DROP DOMAIN {qname('.'.join(strings(node.domainname)))};"
    if isinstance(node, ast.AlterTableStmt) and schema is not None and table(node.relation) \
            and schema.table(table(node.relation)) is None and node.cmds and all(
            c.subtype in (enums.AlterTableType.AT_SetRelOptions, enums.AlterTableType.AT_ResetRelOptions)
            for c in node.cmds):
        return ""  # a table the file makes (the schema before it has none): its own rollback drops it
    if isinstance(node, ast.CreateFunctionStmt):
        return _function_back(node, schema)
    if isinstance(node, ast.CreateTrigStmt) and not node.replace and table(node.relation):
        return f"DROP TRIGGER {ident(node.trigname)} ON {qname(table(node.relation))};"
    if isinstance(node, ast.ViewStmt) and table(node.view) and (not node.replace or (
            schema is not None and schema.dependencies is not None and schema.view(table(node.view)) is None)):
        return f"DROP VIEW {qname(table(node.view))};"  # made here, not replaced: no earlier one to put back
    if isinstance(node, ast.CreateSeqStmt) and not node.if_not_exists and table(node.sequence):
        return f"DROP SEQUENCE {qname(table(node.sequence))};"
    if isinstance(node, ast.AlterTableStmt) and table(node.relation) and node.cmds and all(
            c.subtype == enums.AlterTableType.AT_AddConstraint and isinstance(c.def_, ast.Constraint)
            and c.def_.conname for c in node.cmds):
        drops = ", ".join(f"DROP CONSTRAINT {ident(c.def_.conname)}" for c in node.cmds)
        return f"ALTER TABLE {qname(table(node.relation))} {drops};"
    if isinstance(node, ast.IndexStmt) and node.idxname and not node.if_not_exists:
        schema = node.relation.schemaname
        name = qname(f"{schema}.{node.idxname}" if schema else node.idxname)
        return f"DROP INDEX {'CONCURRENTLY ' if node.concurrent else ''}IF EXISTS {name};"
    return None


def _function_back(node, schema: Optional[Schema]) -> Optional[str]:
    """DROP FUNCTION (or PROCEDURE) of the signature it makes, where it made it: no OR REPLACE, or an
    OR REPLACE of a signature the catalogs before the file do not hold (another overload is a routine
    of its own); the routine it replaced as the catalogs defined it (pg_get_functiondef) where they
    held that signature; None where that is not known (no catalogs, or no definition read)."""
    name = canonical_table(".".join(strings(node.funcname)))
    args = _arg_types(node.parameters)
    if node.replace:
        deps = schema.dependencies if schema is not None else None
        if deps is None:
            return None
        held = next((f for f in deps.functions if f.routine == name and _held_args(f.name) == args), None)
        if held is not None:
            return f"{held.definition.rstrip().rstrip(';')};" if held.definition else None
    kind = "PROCEDURE" if node.is_procedure else "FUNCTION"
    return f"DROP {kind} {qname(name)}({', '.join(args)});"


def _arg_types(parameters) -> list[str]:
    """The types that tell a routine's signature: its parameters but OUT and TABLE ones."""
    return [canonical_type(p.argType) for p in parameters or ()
            if p.mode not in (enums.FunctionParameterMode.FUNC_PARAM_OUT, enums.FunctionParameterMode.FUNC_PARAM_TABLE)]


def _held_args(key: str) -> Optional[list[str]]:
    """The argument types of a catalog function's key (`f(x timestamp with time zone)`: its identity
    arguments, names and modes in them), read by PostgreSQL's parser; None where it does not parse."""
    try:
        stmt = parse_sql(f"CREATE FUNCTION flux_key({key.split('(', 1)[1]} RETURNS void LANGUAGE sql AS ''")[0].stmt
    except Exception:  # noqa: BLE001 - pglast's ParseError, or a key of another shape
        return None
    return _arg_types(stmt.parameters)


def _column_back(node, cmd, schema: Schema) -> Optional[str]:
    """ALTER COLUMN SET/DROP DEFAULT and DROP NOT NULL undone from the column as the schema has it."""
    name = table(node.relation)
    found = schema.table(name) if name else None
    column = found.column(cmd.name) if found is not None and cmd.name else None
    if column is None:
        return None
    alter = f"ALTER TABLE {qname(name)} ALTER COLUMN {ident(column.name)}"
    if cmd.subtype == enums.AlterTableType.AT_ColumnDefault:
        return f"{alter} SET DEFAULT {expr(column.default)};" if column.default else f"{alter} DROP DEFAULT;"
    if cmd.subtype == enums.AlterTableType.AT_DropNotNull:
        return f"{alter} SET NOT NULL;" if not column.nullable else ""
    return None


def outside_transaction(node) -> bool:
    """Statements PostgreSQL refuses inside a transaction block: each is a step of its own."""
    if isinstance(node, (ast.IndexStmt, ast.DropStmt)):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(getattr(p, "defname", None) == "concurrently" for p in node.params or ())
    return isinstance(node, (ast.VacuumStmt, ast.CreatedbStmt))
