"""What a SQL statement does to a live PostgreSQL, read from pglast's tree:
the table it touches, the lock it takes, whether it rewrites or scans the
table, whether it may run inside a transaction block. Rules ask these
questions instead of each re-reading the tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pglast
from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType, ObjectType

from ..models import Schema, Settings
from ..pg.facts import ACCESS_EXCLUSIVE, ROW_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE
from ..pg.sql import canonical_table

SHARE = "SHARE"
NONE = "none"


@dataclass
class Statement:
    node: ast.Node
    text: str
    line: int  # 1-based line of the statement's first token in its file
    index: int


class SqlSyntaxError(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def split_statements(sql: str, line_offset: int = 0) -> list[Statement]:
    try:
        raws = pglast.parse_sql(sql)
    except pglast.parser.ParseError as exc:
        where = getattr(exc, "location", None) or 0
        line = sql.count("\n", 0, min(where, len(sql))) + 1 + line_offset
        raise SqlSyntaxError(str(exc.args[0] if exc.args else exc), line) from None
    out = []
    for i, raw in enumerate(raws):
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(sql)
        out.append(Statement(raw.stmt, sql[start:end].strip(), sql.count("\n", 0, start) + 1 + line_offset, i))
    return out


def relation_name(rv: Optional[ast.RangeVar]) -> Optional[str]:
    if rv is None:
        return None
    return canonical_table(f"{rv.schemaname}.{rv.relname}" if rv.schemaname else rv.relname)


@dataclass
class FileContext:
    """What a rule may know beyond the statement itself."""

    path: str = "<sql>"
    transactional: bool = True  # does the migration tool wrap this SQL in a transaction?
    pg_version: int = 12
    phase: Optional[str] = None  # the plan step's phase, when validating a plan
    schema: Optional[Schema] = None
    has_down: Optional[bool] = None  # None: the format has no down section to judge
    down_sql: Optional[str] = None
    statements: list[Statement] = field(default_factory=list)
    # Progressive state, as of the statement being checked:
    created_tables: set[str] = field(default_factory=set)
    lock_timeout_set: bool = False
    statement_timeout_set: bool = False
    explicit_transaction: bool = False  # a BEGIN seen and not yet committed
    one_query: bool = False  # the tool sends the SQL as one query (dbmate, golang-migrate)
    include_rules: set[str] = field(default_factory=set)  # opt-in rules switched on (squawk's -i)

    @classmethod
    def for_settings(cls, settings: Settings, **kw) -> "FileContext":
        return cls(pg_version=settings.pg_version, include_rules=set(settings.include_rules), **kw)

    def in_transaction(self) -> bool:
        """Inside a transaction block, including the implicit one PostgreSQL opens
        for a multi-statement query."""
        return (self.transactional or self.explicit_transaction
                or (self.one_query and len(self.statements) > 1))

    def table_is_new(self, name: Optional[str]) -> bool:
        return name is not None and name in self.created_tables

    def known_rows(self, name: Optional[str]) -> Optional[int]:
        table = self.schema.table(name) if (self.schema and name) else None
        return table.row_estimate if table else None


def advance(ctx: FileContext, stmt: Statement) -> None:
    """Move the file context past `stmt` (after the rules have seen it)."""
    n = stmt.node
    if isinstance(n, ast.CreateStmt):
        ctx.created_tables.add(relation_name(n.relation))
    elif isinstance(n, ast.VariableSetStmt) and n.name:
        # RESET puts the server default back: as good as never having set it.
        is_set = n.kind.name not in ("VAR_RESET", "VAR_RESET_ALL") if hasattr(n.kind, "name") else True
        if n.name == "lock_timeout":
            ctx.lock_timeout_set = is_set
        elif n.name == "statement_timeout":
            ctx.statement_timeout_set = is_set
    elif isinstance(n, ast.TransactionStmt):
        kind = n.kind.name if hasattr(n.kind, "name") else str(n.kind)
        if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
            ctx.explicit_transaction = True
        elif kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"):
            ctx.explicit_transaction = False


# --------------------------------------------------------------------------
# Statement facts
# --------------------------------------------------------------------------


@dataclass
class Facts:
    table: Optional[str] = None
    lock: str = NONE
    rewrites: bool = False
    scans: bool = False
    forbidden_in_transaction: bool = False


def alter_cmds(node: ast.Node) -> list[ast.AlterTableCmd]:
    if isinstance(node, ast.AlterTableStmt):
        return [c for c in node.cmds or () if isinstance(c, ast.AlterTableCmd)]
    return []


def added_constraint(cmd: ast.AlterTableCmd) -> Optional[ast.Constraint]:
    if cmd.subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        return cmd.def_
    return None


def facts(stmt: Statement) -> Facts:
    n = stmt.node
    if isinstance(n, ast.IndexStmt):
        return Facts(relation_name(n.relation), SHARE_UPDATE_EXCLUSIVE if n.concurrent else SHARE,
                     scans=True, forbidden_in_transaction=bool(n.concurrent))
    if isinstance(n, ast.DropStmt) and n.removeType == ObjectType.OBJECT_INDEX:
        return Facts(None, SHARE_UPDATE_EXCLUSIVE if n.concurrent else ACCESS_EXCLUSIVE,
                     forbidden_in_transaction=bool(n.concurrent))
    if isinstance(n, ast.AlterTableStmt):
        table = relation_name(n.relation)
        f = Facts(table, ACCESS_EXCLUSIVE)
        for cmd in alter_cmds(n):
            con = added_constraint(cmd)
            if cmd.subtype == AT.AT_AlterColumnType:
                f.rewrites = True
            elif cmd.subtype == AT.AT_SetNotNull:
                f.scans = True
            elif cmd.subtype == AT.AT_ValidateConstraint:
                f.lock, f.scans = SHARE_UPDATE_EXCLUSIVE, True
            elif con is not None and not con.skip_validation and con.contype in (
                    ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN):
                f.scans = True
                if con.contype == ConstrType.CONSTR_FOREIGN and len(alter_cmds(n)) == 1:
                    f.lock = SHARE_ROW_EXCLUSIVE
            elif con is not None and con.contype in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY) \
                    and not con.indexname:
                f.scans = True  # builds an index under ACCESS EXCLUSIVE
        return f
    if isinstance(n, (ast.UpdateStmt, ast.DeleteStmt)):
        return Facts(relation_name(n.relation), ROW_EXCLUSIVE, scans=n.whereClause is None)
    if isinstance(n, ast.InsertStmt):
        return Facts(relation_name(n.relation), ROW_EXCLUSIVE)
    if isinstance(n, ast.TruncateStmt):
        return Facts(relation_name(n.relations[0]) if n.relations else None, ACCESS_EXCLUSIVE)
    if isinstance(n, ast.AlterEnumStmt):
        return Facts(None, "brief", forbidden_in_transaction=False)
    if isinstance(n, ast.RenameStmt):
        return Facts(relation_name(n.relation), ACCESS_EXCLUSIVE)
    if isinstance(n, ast.DropStmt) and n.removeType == ObjectType.OBJECT_TABLE:
        return Facts(None, ACCESS_EXCLUSIVE)
    if isinstance(n, ast.ReindexStmt):
        concurrent = any(getattr(p, "defname", "") == "concurrently" for p in n.params or ())
        return Facts(relation_name(n.relation), SHARE_UPDATE_EXCLUSIVE if concurrent else ACCESS_EXCLUSIVE,
                     forbidden_in_transaction=concurrent)
    return Facts()
