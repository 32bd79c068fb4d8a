"""A reversible change with an empty down section: the tool's rollback does nothing,
so a failed deploy leaves the new table, column or index behind."""

from pglast import ast
from pglast.enums import AlterTableType as AT

from ._flux_common import alter_cmds

ID = "missing-rollback"
SEVERITY = "error"
MESSAGE = "the up section makes a reversible change but the down section is empty"
HINT = "write the down SQL that undoes it (DROP ... / RENAME back / DROP CONSTRAINT ...), or let flux plan write both"

_REVERSIBLE_CMDS = {
    AT.AT_AddColumn: "adds a column",
    AT.AT_AddConstraint: "adds a constraint",
    AT.AT_ColumnDefault: "changes a default",
    AT.AT_SetNotNull: "sets NOT NULL",
    AT.AT_DropNotNull: "drops NOT NULL",
    AT.AT_AlterColumnType: "changes a column type",
    AT.AT_AddIndex: "adds an index",
    AT.AT_ValidateConstraint: None,  # nothing to undo
}


def _what(node) -> str | None:
    if isinstance(node, ast.CreateStmt):
        return "creates a table"
    if isinstance(node, ast.CreateTableAsStmt):
        return "creates a table or materialized view"
    if isinstance(node, ast.IndexStmt):
        return "creates an index"
    if isinstance(node, ast.ViewStmt):
        return "creates a view"
    if isinstance(node, (ast.CreateEnumStmt, ast.CompositeTypeStmt, ast.CreateDomainStmt, ast.CreateRangeStmt)):
        return "creates a type"
    if isinstance(node, ast.CreateSeqStmt):
        return "creates a sequence"
    if isinstance(node, ast.CreateSchemaStmt):
        return "creates a schema"
    if isinstance(node, ast.CreateTrigStmt):
        return "creates a trigger"
    if isinstance(node, ast.CreateFunctionStmt):
        return "creates a function"
    if isinstance(node, ast.RenameStmt):
        return "renames an object"
    if isinstance(node, ast.AlterTableStmt):
        for cmd in alter_cmds(node):
            what = _REVERSIBLE_CMDS.get(cmd.subtype)
            if what:
                return what
    return None


def check_file(ctx):
    if ctx.has_down is not False:  # None: the format has no down section; True: it has one
        return []
    for stmt in ctx.statements:
        what = _what(stmt.node)
        if what:
            return [(stmt.line, f"the up section {what} (line {stmt.line}) but the down section is empty, "
                                f"so a rollback leaves it behind")]
    return []
