"""Helpers shared by the flux-only rules (not a rule: the loader skips `_` modules).

`working_names` gives the schema as it stands just before the statement being
checked, in names (tables, views, columns, keys, types as the replay names them):
the schema the file is judged against, plus what the file's earlier statements
created, renamed or dropped (replayed with flux_agent.schema). No rule needs the
normalised snapshot (ctx.schema) any more: each reads names only.
"""

from __future__ import annotations

import json
from typing import Optional

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType, NullTestType, ObjectType

from ...model.schema import Index, Schema, Table, View
from ...pg.locks import alter_cmds
from ...pg.parse import is_one_name, parse_sql
from ...pg.quote import relation_name
from ...pg.types import canonical_type
from ...schema.replay.state import State
from ...schema.replay.statements import replay_step
from ...schema.replay.touches import copy_for_replay, touched, union

_STATE = "_flux_working_names"


def working_names(ctx, stmt) -> Optional[Schema]:
    """ctx.names_schema() advanced past every statement of the file before `stmt`; None when the
    file is judged without a schema. Read in the folder's replay itself where it stands in this
    file (ctx.cursor); else in a copy of what the file's statements change, replayed here."""
    cursor = ctx.cursor
    if cursor is not None:
        schema = cursor.before(stmt.index)
        if schema is not None:
            return schema
        # The replay stands before the file again (a statement failed, or an earlier one was asked
        # for): read a copy of that from here on.
        ctx.cursor = None
        ctx.names = cursor.replay.as_replayed()
    return _advanced(ctx, stmt, ctx.names_schema(), _STATE)


def _advanced(ctx, stmt, base: Optional[Schema], slot: str) -> Optional[Schema]:
    if base is None:
        return None
    cache = ctx.__dict__.get(slot)
    if cache is None or cache[0] is not base or cache[2] > stmt.index:
        cache = [base, None, 0]  # the State is made on the first statement that changes the schema
        ctx.__dict__[slot] = cache
    while cache[2] < stmt.index and cache[2] < len(ctx.statements):
        prev = ctx.statements[cache[2]]
        cache[2] += 1
        step = replay_step(prev.node, prev.text)
        if step is None:
            continue
        if cache[1] is None:  # a copy of what the file's statements can change, the rest shared
            cache[1] = State(copy_for_replay(base, _file_touches(ctx)))
        try:
            step(cache[1])
        except Exception:  # an odd statement must not stop the other checks
            continue
    return base if cache[1] is None else cache[1].schema


def _file_touches(ctx):
    """The tables the file's statements can change when replayed (touches.py); None: any."""
    steps = [(s, replay_step(s.node, s.text)) for s in ctx.statements]
    return union(getattr(step, "touches", None) if isinstance(s.node, ast.DoStmt) else touched(s.node)
                 for s, step in steps if step is not None)


def names_have_tables(ctx) -> bool:
    """The schema before the file (ctx.names_schema()) has a table or a view: its history is known."""
    if ctx.cursor is not None:
        return ctx.cursor.had_tables
    names = ctx.names_schema()
    return names is not None and bool(names.tables or names.views)


def names_table_of(ctx, stmt, name: Optional[str]) -> Optional[Table]:
    """The table of that name as it stands just before `stmt` (working_names); None when unknown."""
    schema = working_names(ctx, stmt)
    return table_in(ctx, schema, name) if (schema is not None and name) else None


def table_in(ctx, schema: Schema, name: str) -> Optional[Table]:
    """schema.table(name): through the replay's index of its tables when `schema` is the replay's
    own (ctx.cursor), without a scan of every table."""
    cursor = ctx.cursor
    if cursor is not None and schema is cursor.replay.state.schema:
        return cursor.replay.state.table_at(name)
    return schema.table(name)


def known_rows(ctx, stmt, name: Optional[str]) -> Optional[int]:
    """The table's row estimate as it stands just before `stmt`; None when not known."""
    table = names_table_of(ctx, stmt, name)
    return table.row_estimate if table else None


def changes_nothing(ctx, stmt, cmds, unchanged) -> bool:
    """Every one of `cmds` (ALTER COLUMN commands of the statement's table) finds its column as it
    would leave it (`unchanged(column)`: already without a default, already nullable), so PostgreSQL
    does nothing (sequelize's changeColumn sends DROP DEFAULT and NOT NULL changes whatever they
    were). False without a schema, or for a column the schema lacks. Read in the replay's names: a
    column's nullability and whether it has a default need no normalised snapshot."""
    if not cmds or ctx.names_schema() is None:
        return False
    table = names_table_of(ctx, stmt, relation_name(stmt.node.relation))
    if table is None:
        return False
    columns = [table.column(cmd.name) for cmd in cmds]
    return all(c is not None and unchanged(c) for c in columns)


def is_not_null_check(expr, column: str) -> bool:
    """`col IS NOT NULL` (possibly one arm of a top-level AND)."""
    if isinstance(expr, ast.NullTest):
        arg = expr.arg
        return (expr.nulltesttype == NullTestType.IS_NOT_NULL and isinstance(arg, ast.ColumnRef)
                and isinstance(arg.fields[-1], ast.String) and arg.fields[-1].sval == column)
    if isinstance(expr, ast.BoolExpr) and getattr(expr.boolop, "name", "") == "AND_EXPR":
        return any(is_not_null_check(a, column) for a in expr.args or ())
    return False


def renames_a_sequence(node, schema: Optional[Schema] = None) -> bool:
    """Is this `ALTER TABLE x RENAME TO y` (which PostgreSQL takes for any relation) a sequence's:
    named as PostgreSQL names a serial or identity column's (`..._seq`) or a column default's
    nextval, and no table or view of the schema (when known)? netbox renames the sequences of the
    tables Django renamed: nothing breaks, defaults point at a sequence by its oid."""
    if not (isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE
            and node.relation is not None):
        return False
    name = relation_name(node.relation)
    if schema is not None and (schema.table(name) is not None or schema.view(name) is not None):
        return False
    bare = name.rsplit(".", 1)[-1]
    return bare.endswith("_seq") or (schema is not None and any(
        c.default and f"nextval('{bare}'" in c.default for t in schema.tables for c in t.columns))


def column_of_null_check(table: str, name: Optional[str]) -> Optional[str]:
    """The column a NOT NULL helper CHECK proves, by its name's convention where its expression is not
    known (added in an earlier file): squawk's <column>_not_null or <table>_<column>_not_null,
    strong_migrations' <table>_<column>_null (mastodon's mentions_status_id_null)."""
    bare = table.rsplit(".", 1)[-1]
    if name and name.endswith("_not_null"):
        stem = name[: -len("_not_null")]
        if stem.startswith(bare + "_") and len(stem) > len(bare) + 1:
            return stem[len(bare) + 1:]
        return stem if stem and stem != bare else None
    if name and name.endswith("_null") and name.startswith(bare + "_") and len(name) > len(bare) + len("__null"):
        return name[len(bare) + 1: -len("_null")]
    return None


def expression_is_not_null_check(text: Optional[str], column: str) -> bool:
    if not text:
        return False
    try:
        stmt = parse_sql(f"SELECT {text}")[0].stmt
        return is_not_null_check(stmt.targetList[0].val, column)
    except Exception:
        return False


def column_added_earlier(ctx, stmt, table: str, column: str) -> bool:
    """Did a statement before `stmt` in this file add `column` to `table`? Its data is
    new: nothing running reads it yet, and nothing is lost by changing it."""
    return added_column(ctx, stmt, table, column) is not None


def added_column(ctx, stmt, table: str, column: str) -> Optional[ast.ColumnDef]:
    """The definition of `column` as the last statement before `stmt` that added it to `table` wrote it."""
    found = None
    for prev in ctx.statements[: stmt.index]:
        if relation_name(getattr(prev.node, "relation", None)) != table:
            continue
        for cmd in alter_cmds(prev.node):
            if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef) \
                    and cmd.def_.colname == column:
                found = cmd.def_
    return found


def set_not_null_earlier(ctx, stmt, table: str, column: str) -> bool:
    """Did a statement before `stmt` in this file SET NOT NULL on `column` of `table`?"""
    return any(isinstance(s.node, ast.AlterTableStmt) and relation_name(s.node.relation) == table
               and any(c.subtype == AT.AT_SetNotNull and c.name == column for c in alter_cmds(s.node))
               for s in ctx.statements[:stmt.index])


def added_check(cmd) -> Optional[ast.Constraint]:
    if cmd.subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint) \
            and cmd.def_.contype == ConstrType.CONSTR_CHECK:
        return cmd.def_
    return None


def op_command(op: dict) -> str:
    """The `flux plan` command that plans `op` as expand/contract steps."""
    return f"flux plan --op '{json.dumps(op, separators=(',', ':'))}'"


def plain_type(tn) -> str:
    try:
        return canonical_type(tn)
    except Exception:
        return ".".join(n.sval for n in tn.names if isinstance(n, ast.String))


def matview_at(ctx, stmt, rv) -> Optional[View]:
    """The materialized view `rv` names, as the file has it before `stmt` (None: no schema, or none)."""
    schema = working_names(ctx, stmt)
    view = schema.view(relation_name(rv)) if schema is not None else None
    return view if view is not None and view.materialized else None


def refresh_key(view: View) -> Optional[Index]:
    """The index REFRESH MATERIALIZED VIEW CONCURRENTLY can match old and new rows by (matview.c's
    is_usable_unique_index: unique, btree, not partial, plain columns only), if the view has one."""
    return next((i for i in view.indexes if i.unique and i.method == "btree" and not i.where and i.columns
                 and all(is_one_name(c) for c in i.columns)), None)
