"""A reversible change with an empty down section: the tool's rollback does nothing,
so a failed deploy leaves the new table, column or index behind."""

from pglast import ast
from pglast.enums import AlterTableType as AT

from ...pg.locks import alter_cmds
from ._rule import Rule, Verdict, flags, passes

RULE = Rule(
    id="missing-rollback",
    severity="error",
    message="the up section makes a reversible change but the down section is empty",
    hint=("write the down SQL that undoes it (DROP ... / RENAME back / DROP CONSTRAINT ...), or let flux plan "
          "write both"),
    squawk=None,
    examples=[
        flags("CREATE TABLE coupons (id bigint PRIMARY KEY, code text NOT NULL);", has_down=False),
        flags("ALTER TABLE users ADD COLUMN nickname text;", has_down=False),
        flags("CREATE TYPE order_state AS ENUM ('new', 'paid');", has_down=False),
        passes("ALTER TABLE users ADD COLUMN nickname text;", has_down=True),
        passes("ALTER TABLE users ADD COLUMN nickname text;", why="the format has no down section"),
        passes("INSERT INTO users (email) VALUES ('ops@example.com');", has_down=False, why="data: nothing to undo"),
        passes("ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;", has_down=False),
        passes("CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
               has_down=False, why="a redefinition: its undo is the old body, not DROP, which would break its users"),
    ],
)

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

_REVERSIBLE_STMTS = {
    ast.CreateStmt: "creates a table",
    ast.CreateTableAsStmt: "creates a table or materialized view",
    ast.IndexStmt: "creates an index",
    ast.ViewStmt: "creates a view",
    ast.CreateEnumStmt: "creates a type",
    ast.CompositeTypeStmt: "creates a type",
    ast.CreateDomainStmt: "creates a type",
    ast.CreateRangeStmt: "creates a type",
    ast.CreateSeqStmt: "creates a sequence",
    ast.CreateSchemaStmt: "creates a schema",
    ast.CreateTrigStmt: "creates a trigger",
    ast.CreateFunctionStmt: "creates a function",
    ast.RenameStmt: "renames an object",
}


def _what(node) -> str | None:
    if getattr(node, "replace", False):  # OR REPLACE: maybe a redefinition, whose undo no rule can write (polar)
        return None
    if type(node) in _REVERSIBLE_STMTS:
        return _REVERSIBLE_STMTS[type(node)]
    return next((_REVERSIBLE_CMDS[c.subtype] for c in alter_cmds(node) if _REVERSIBLE_CMDS.get(c.subtype)), None)


def check_file(ctx):
    if ctx.has_down is not False:  # None: the format has no down section; True: it has one
        return []
    for stmt in ctx.statements:
        what = _what(stmt.node)
        if what and ctx.irreversible is not None:
            # The tool made the down part and one call left it empty (Rails' change): that call is
            # the one to change, not the reversible one first in the file.
            line, why, hint = ctx.irreversible
            return [Verdict(f"the down section is empty: {why}; the up section {what}, which a rollback "
                            "then cannot undo", line=line, hint=hint)]
        if what:
            # The finding stands at the statement's line: in a program-code migration that is the line
            # of the call that sends it, which is why the message does not quote a line of its own.
            return [Verdict(f"the up section {what} but the down section is empty, so a rollback leaves it "
                            "behind", line=stmt.line)]
    return []
