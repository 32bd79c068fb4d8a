"""A new constraint, NOT NULL, unique index or stricter constraint timing on an
existing table or domain can reject writes that clients already deployed still
make, even when added NOT VALID or CONCURRENTLY. Same statements as squawk's
rule, plus two exemptions: a NOT NULL column with a DEFAULT (clients that never
send the column get the default), and a plan's contract phase (it runs after the
code that writes valid rows has shipped). Opt-in as in squawk: silent unless the
run asks for it (RULE.opt_in)."""

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType, ObjectType

from ...pg.locks import added_constraint, alter_cmds
from ...pg.quote import relation_name
from ._rule import Rule, Verdict, flags, passes

RULE = Rule(
    id="ban-new-write-restriction",
    severity="warning",
    message="a new constraint can reject writes from clients already deployed, even when it is NOT VALID",
    hint="ship code that always satisfies the constraint before this migration (expand, code, then contract)",
    squawk="opt-in",
    opt_in=True,
    examples=[
        flags("ALTER TABLE t ADD CONSTRAINT ck CHECK (id > 0) NOT VALID;"),
        flags("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_c_key ON t (c);", transactional=False),
        flags("ALTER TABLE t ALTER COLUMN c SET NOT NULL;"),
        flags("ALTER TABLE t ALTER CONSTRAINT fk NOT DEFERRABLE;"),
        flags("ALTER DOMAIN d SET NOT NULL;"),
        passes("CREATE INDEX CONCURRENTLY IF NOT EXISTS t_c_idx ON t (c);", transactional=False),
        passes("CREATE TABLE t (id bigint);\nALTER TABLE t ADD CONSTRAINT ck CHECK (id > 0);"),
        passes("ALTER TABLE t ALTER CONSTRAINT fk NOT ENFORCED;"),
        passes("ALTER TABLE t ADD COLUMN IF NOT EXISTS c text NOT NULL DEFAULT 'x';", squawk_agrees=False,
               why="clients that never send a NOT NULL column with a DEFAULT get the default"),
        passes("ALTER TABLE t ADD CONSTRAINT ck CHECK (id > 0) NOT VALID;", phase="contract", squawk_agrees=False,
               why="a plan's contract step runs after the code that writes valid rows has shipped"),
    ],
)

_TABLE_CONSTRAINTS = {ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_UNIQUE,
                      ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_EXCLUSION, ConstrType.CONSTR_NOTNULL}
_COLUMN_CONSTRAINTS = {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK,
                       ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY}


def _column_restriction(col: ast.ColumnDef):
    kinds = {c.contype for c in col.constraints or ()}
    if ConstrType.CONSTR_DEFAULT in kinds:
        kinds.discard(ConstrType.CONSTR_NOTNULL)  # old clients never send it: the default fills it
    return kinds & _COLUMN_CONSTRAINTS


def _alter_table(n, foreign: bool):
    for cmd in alter_cmds(n):
        con = added_constraint(cmd)
        if con is not None and (foreign or con.contype in _TABLE_CONSTRAINTS):
            name = f" {con.conname}" if con.conname else ""
            return f"new constraint{name} can reject writes from clients already deployed, even when it is NOT VALID"
        if cmd.subtype == AT.AT_SetNotNull:
            return f"SET NOT NULL on {cmd.name} can reject writes from clients already deployed"
        if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef) \
                and _column_restriction(cmd.def_):
            return f"a constraint on new column {cmd.def_.colname} can reject writes from clients already deployed"
        if cmd.subtype == AT.AT_AlterConstraint and isinstance(cmd.def_, ast.ATAlterConstraint) \
                and (cmd.def_.alterDeferrability or (cmd.def_.alterEnforceability and cmd.def_.is_enforced)):
            return (f"changing how constraint {cmd.def_.conname} is enforced can reject writes from clients "
                    "already deployed")
    return None


def check(stmt, ctx):
    n = stmt.node
    if ctx.phase == "contract":
        return None
    if isinstance(n, ast.AlterTableStmt) and n.objtype in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_FOREIGN_TABLE):
        if ctx.table_is_new(relation_name(n.relation)):
            return None  # no client writes to a table created in this migration yet
        message = _alter_table(n, n.objtype == ObjectType.OBJECT_FOREIGN_TABLE)
        return Verdict(message) if message else None
    if isinstance(n, ast.AlterDomainStmt) and n.subtype in ("C", "O"):
        return Verdict("a new domain constraint can reject writes from clients already deployed" if n.subtype == "C"
                       else "a domain NOT NULL can reject writes from clients already deployed")
    if isinstance(n, ast.IndexStmt) and n.unique and not ctx.table_is_new(relation_name(n.relation)):
        return Verdict("a unique index can reject writes from clients already deployed, even when built CONCURRENTLY")
    return None
