"""Which form of which statement a parsed statement is (`ALTER TABLE ... SET NOT NULL`,
`REFRESH MATERIALIZED VIEW CONCURRENTLY`, ...), and what PostgreSQL's manual says that form
does: the lock on each object it touches, whether it scans or rewrites, from which major
version. The facts are the rows of pg/form_table.py; this module reads trees into their keys."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict

from ..model.terms import Lock
from .parse import ast, enums
from .split import Statement
from .types import volatile_tree

# Objects a form locks besides its own (the statement's table, index or view).
Role = Literal["referenced table", "table", "parent", "partition", "source tables", "domain's tables"]
# "empties": new empty files (TRUNCATE), nothing copied; "depends": a more precise rule decides (a type change).
Rewrite = Literal["no", "yes", "depends", "empties"]

# PostgreSQL's table lock modes, weakest first ("none": no lock on a table).
LOCK_ORDER: tuple[Lock, ...] = ("none", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE",
                                "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE")


def stronger(a: Lock, b: Lock) -> Lock:
    return a if LOCK_ORDER.index(a) >= LOCK_ORDER.index(b) else b


def blocks_writes(lock: Lock) -> bool:
    """Conflicts with ROW EXCLUSIVE, the lock every INSERT, UPDATE and DELETE takes."""
    return LOCK_ORDER.index(lock) >= LOCK_ORDER.index("SHARE")


def blocks_reads(lock: Lock) -> bool:
    return lock == "ACCESS EXCLUSIVE"


class Form(BaseModel):
    """One row: a statement form and what it does on the majors [since, until]."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    lock: Lock  # on the statement's own object
    others: dict[Role, Lock] = {}
    scans: bool = False  # reads every row of its table while it holds the lock
    rewrites: Rewrite = "no"
    no_transaction: bool = False  # refused inside a transaction block
    since: int = 9
    until: Optional[int] = None
    rule: Optional[str] = None  # the rule that judges this form more precisely than its lock alone
    manual: str  # the page of PostgreSQL's manual that states it
    example: str = ""  # runs on tests' lock-probe schema; empty: parsed only

    def holds_on(self, major: int) -> bool:
        return self.since <= major and (self.until is None or major <= self.until)

    @property
    def strongest(self) -> Lock:
        lock = self.lock
        for other in self.others.values():
            lock = stronger(lock, other)
        return lock


def _at_key(obj: str, cmd: ast.AlterTableCmd) -> str:
    AT, CT = enums.AlterTableType, enums.ConstrType
    sub = cmd.subtype
    if sub == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        if obj == "ALTER TYPE":
            return "ALTER TYPE ADD ATTRIBUTE"
        return f"{obj} ADD COLUMN{_column_variant(cmd.def_)}"
    if sub == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        con = cmd.def_
        kind = {CT.CONSTR_CHECK: "CHECK", CT.CONSTR_FOREIGN: "FOREIGN KEY", CT.CONSTR_PRIMARY: "PRIMARY KEY",
                CT.CONSTR_UNIQUE: "UNIQUE", CT.CONSTR_EXCLUSION: "EXCLUDE"}.get(con.contype, "CONSTRAINT")
        if kind in ("PRIMARY KEY", "UNIQUE") and con.indexname:
            return f"{obj} ADD {kind} USING INDEX"
        return f"{obj} ADD {kind}{' NOT VALID' if con.skip_validation else ''}"
    if sub == AT.AT_DetachPartition and isinstance(cmd.def_, ast.PartitionCmd) and cmd.def_.concurrent:
        return f"{obj} DETACH PARTITION CONCURRENTLY"
    label = _AT_LABELS.get(sub.name if hasattr(sub, "name") else str(sub))
    return f"{obj} {label}" if label else f"{obj} {sub.name if hasattr(sub, 'name') else sub}"


def _column_variant(col: ast.ColumnDef) -> str:
    """ADD COLUMN, ... DEFAULT (a constant or stable default), ... volatile DEFAULT, ... serial,
    ... IDENTITY, ... GENERATED STORED, ... REFERENCES, ... PRIMARY KEY/UNIQUE, ... CHECK."""

    CT = enums.ConstrType
    type_name = col.typeName.names[-1].sval if col.typeName is not None and col.typeName.names else ""
    if type_name in ("serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"):
        return " serial"
    kinds = {c.contype: c for c in col.constraints or () if isinstance(c, ast.Constraint)}
    for contype, label in ((CT.CONSTR_IDENTITY, " IDENTITY"), (CT.CONSTR_GENERATED, " GENERATED STORED"),
                           (CT.CONSTR_FOREIGN, " REFERENCES"), (CT.CONSTR_PRIMARY, " PRIMARY KEY"),
                           (CT.CONSTR_UNIQUE, " UNIQUE"), (CT.CONSTR_CHECK, " CHECK")):
        if contype in kinds:
            return label
    default = kinds.get(CT.CONSTR_DEFAULT)
    if default is not None and default.raw_expr is not None and not (
            isinstance(default.raw_expr, ast.A_Const) and default.raw_expr.isnull):
        return " volatile DEFAULT" if volatile_tree(default.raw_expr) else " DEFAULT"
    return ""


_AT_LABELS = {
    "AT_ColumnDefault": "ALTER COLUMN SET DEFAULT", "AT_DropNotNull": "ALTER COLUMN DROP NOT NULL",
    "AT_SetNotNull": "ALTER COLUMN SET NOT NULL", "AT_SetExpression": "ALTER COLUMN SET EXPRESSION",
    "AT_DropExpression": "ALTER COLUMN DROP EXPRESSION", "AT_SetStatistics": "ALTER COLUMN SET STATISTICS",
    "AT_SetOptions": "ALTER COLUMN SET (options)", "AT_ResetOptions": "ALTER COLUMN RESET (options)",
    "AT_SetStorage": "ALTER COLUMN SET STORAGE", "AT_SetCompression": "ALTER COLUMN SET COMPRESSION",
    "AT_DropColumn": "DROP COLUMN", "AT_AlterColumnType": "ALTER COLUMN TYPE",
    "AT_AddIdentity": "ALTER COLUMN ADD IDENTITY", "AT_SetIdentity": "ALTER COLUMN SET identity option",
    "AT_DropIdentity": "ALTER COLUMN DROP IDENTITY", "AT_ValidateConstraint": "VALIDATE CONSTRAINT",
    "AT_DropConstraint": "DROP CONSTRAINT", "AT_AlterConstraint": "ALTER CONSTRAINT",
    "AT_ChangeOwner": "OWNER TO", "AT_ClusterOn": "CLUSTER ON", "AT_DropCluster": "SET WITHOUT CLUSTER",
    "AT_SetLogged": "SET LOGGED", "AT_SetUnLogged": "SET UNLOGGED", "AT_SetAccessMethod": "SET ACCESS METHOD",
    "AT_SetTableSpace": "SET TABLESPACE", "AT_SetRelOptions": "SET (storage parameters)",
    "AT_ResetRelOptions": "RESET (storage parameters)", "AT_EnableTrig": "ENABLE TRIGGER",
    "AT_EnableAlwaysTrig": "ENABLE ALWAYS TRIGGER", "AT_EnableReplicaTrig": "ENABLE REPLICA TRIGGER",
    "AT_DisableTrig": "DISABLE TRIGGER", "AT_EnableTrigAll": "ENABLE TRIGGER ALL",
    "AT_DisableTrigAll": "DISABLE TRIGGER ALL", "AT_EnableTrigUser": "ENABLE TRIGGER USER",
    "AT_DisableTrigUser": "DISABLE TRIGGER USER", "AT_EnableRule": "ENABLE RULE", "AT_DisableRule": "DISABLE RULE",
    "AT_AddInherit": "INHERIT", "AT_DropInherit": "NO INHERIT", "AT_ReplicaIdentity": "REPLICA IDENTITY",
    "AT_EnableRowSecurity": "ENABLE ROW LEVEL SECURITY", "AT_DisableRowSecurity": "DISABLE ROW LEVEL SECURITY",
    "AT_ForceRowSecurity": "FORCE ROW LEVEL SECURITY", "AT_NoForceRowSecurity": "NO FORCE ROW LEVEL SECURITY",
    "AT_AttachPartition": "ATTACH PARTITION", "AT_DetachPartition": "DETACH PARTITION",
    "AT_AddOf": "OF type", "AT_DropOf": "NOT OF",
}

_OBJECTS = {"OBJECT_TABLE": "ALTER TABLE", "OBJECT_INDEX": "ALTER INDEX", "OBJECT_MATVIEW": "ALTER MATERIALIZED VIEW",
            "OBJECT_VIEW": "ALTER VIEW", "OBJECT_SEQUENCE": "ALTER SEQUENCE", "OBJECT_TYPE": "ALTER TYPE",
            "OBJECT_FOREIGN_TABLE": "ALTER FOREIGN TABLE"}


def _word(objtype) -> str:
    word = objtype.name.removeprefix("OBJECT_").replace("_", " ") if hasattr(objtype, "name") else str(objtype)
    return {"STATISTIC EXT": "STATISTICS"}.get(word, word)


def keys(stmt: Statement) -> list[str]:
    """The form keys of a statement: one per ALTER TABLE subcommand, else one."""
    n = stmt.node
    name = type(n).__name__
    if isinstance(n, ast.AlterTableStmt):
        obj = _OBJECTS.get(n.objtype.name if hasattr(n.objtype, "name") else "", "ALTER TABLE")
        return [_at_key(obj, c) for c in n.cmds or () if isinstance(c, ast.AlterTableCmd)] or [obj]
    if isinstance(n, ast.IndexStmt):
        return ["CREATE INDEX CONCURRENTLY" if n.concurrent else "CREATE INDEX"]
    if isinstance(n, ast.DropStmt):
        word = _word(n.removeType)
        return [f"DROP {word}{' CONCURRENTLY' if n.concurrent else ''}"]
    if isinstance(n, ast.RenameStmt):
        return [f"RENAME {_word(n.renameType)}"]
    if isinstance(n, ast.AlterObjectSchemaStmt):
        return [f"SET SCHEMA {_word(n.objectType)}"]
    if isinstance(n, ast.VacuumStmt):
        options = {getattr(o, "defname", "") for o in n.options or ()}
        if not n.is_vacuumcmd:
            return ["ANALYZE"]
        return ["VACUUM FULL" if "full" in options else "VACUUM"]
    if isinstance(n, ast.ReindexStmt):
        concurrent = any(getattr(p, "defname", "") == "concurrently" for p in n.params or ())
        kind = n.kind.name.removeprefix("REINDEX_OBJECT_") if hasattr(n.kind, "name") else str(n.kind)
        return ["REINDEX CONCURRENTLY" if concurrent else f"REINDEX {kind}"]
    if isinstance(n, ast.RefreshMatViewStmt):
        return ["REFRESH MATERIALIZED VIEW CONCURRENTLY" if n.concurrent else "REFRESH MATERIALIZED VIEW"]
    if isinstance(n, ast.CreateStmt):
        if n.partbound is not None:
            return ["CREATE TABLE PARTITION OF"]
        if n.inhRelations:
            return ["CREATE TABLE INHERITS"]
        refs = any(isinstance(c, ast.Constraint) and c.contype == enums.ConstrType.CONSTR_FOREIGN
                   for elt in n.tableElts or ()
                   for c in ([elt] if isinstance(elt, ast.Constraint) else getattr(elt, "constraints", None) or ()))
        return ["CREATE TABLE REFERENCES" if refs else "CREATE TABLE"]
    if isinstance(n, ast.CreateTableAsStmt):
        return ["CREATE MATERIALIZED VIEW" if _word(n.objtype) == "MATVIEW" else "CREATE TABLE AS"]
    if isinstance(n, ast.ViewStmt):
        return ["CREATE OR REPLACE VIEW" if n.replace else "CREATE VIEW"]
    if isinstance(n, ast.AlterEnumStmt):
        return ["ALTER TYPE RENAME VALUE" if n.oldVal else "ALTER TYPE ADD VALUE"]
    if isinstance(n, ast.AlterDomainStmt):
        return [{"C": "ALTER DOMAIN ADD CONSTRAINT", "V": "ALTER DOMAIN VALIDATE CONSTRAINT",
                 "O": "ALTER DOMAIN SET NOT NULL"}.get(n.subtype, "ALTER DOMAIN")]
    if isinstance(n, ast.SelectStmt) and n.lockingClause:
        return ["SELECT FOR UPDATE/SHARE"]
    if isinstance(n, ast.CopyStmt):
        return ["COPY FROM" if n.is_from else "COPY TO"]
    if isinstance(n, ast.CommentStmt):
        return ["COMMENT ON"]
    if isinstance(n, ast.TransactionStmt):
        return ["TRANSACTION"]  # BEGIN, COMMIT, SAVEPOINT, ...
    return [_STATEMENTS.get(name, name)]


# Statement node -> key, where the node alone decides the form.
_STATEMENTS = {
    "ClusterStmt": "CLUSTER", "LockStmt": "LOCK TABLE", "TruncateStmt": "TRUNCATE", "CreateTrigStmt": "CREATE TRIGGER",
    "RuleStmt": "CREATE RULE", "CreatePolicyStmt": "CREATE POLICY", "AlterPolicyStmt": "ALTER POLICY",
    "GrantStmt": "GRANT/REVOKE", "GrantRoleStmt": "GRANT/REVOKE", "CreateStatsStmt": "CREATE STATISTICS",
    "SelectStmt": "SELECT", "InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE",
    "MergeStmt": "MERGE", "VariableSetStmt": "SET", "VariableShowStmt": "SHOW", "DoStmt": "DO",
    "CreateFunctionStmt": "CREATE FUNCTION", "AlterFunctionStmt": "ALTER FUNCTION", "CreateSeqStmt": "CREATE SEQUENCE",
    "AlterSeqStmt": "ALTER SEQUENCE", "CreateEnumStmt": "CREATE TYPE", "CompositeTypeStmt": "CREATE TYPE",
    "CreateRangeStmt": "CREATE TYPE", "DefineStmt": "CREATE AGGREGATE/OPERATOR/TYPE", "CreateDomainStmt": "CREATE DOMAIN",
    "CreateSchemaStmt": "CREATE SCHEMA", "CreateExtensionStmt": "CREATE EXTENSION",
    "AlterExtensionStmt": "ALTER EXTENSION", "AlterOwnerStmt": "OWNER TO", "CreateCastStmt": "CREATE CAST",
    "NotifyStmt": "NOTIFY", "CallStmt": "CALL", "SecLabelStmt": "SECURITY LABEL", "AlterTableSpaceOptionsStmt":
    "ALTER TABLESPACE", "AlterSystemStmt": "ALTER SYSTEM", "AlterDatabaseStmt": "ALTER DATABASE",
    "AlterDatabaseSetStmt": "ALTER DATABASE", "AlterRoleStmt": "ALTER ROLE", "AlterRoleSetStmt": "ALTER ROLE",
    "CreateRoleStmt": "CREATE ROLE", "DropRoleStmt": "DROP ROLE", "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE", "AlterDefaultPrivilegesStmt": "ALTER DEFAULT PRIVILEGES",
    "AlterCollationStmt": "ALTER COLLATION", "CreateOpClassStmt": "CREATE OPERATOR CLASS",
    "AlterOperatorStmt": "ALTER OPERATOR", "CreateEventTrigStmt": "CREATE EVENT TRIGGER",
    "CreatePublicationStmt": "CREATE PUBLICATION", "AlterPublicationStmt": "ALTER PUBLICATION",
    "DiscardStmt": "DISCARD", "ListenStmt": "LISTEN", "UnlistenStmt": "LISTEN", "ExplainStmt": "EXPLAIN",
    "CheckPointStmt": "CHECKPOINT", "LoadStmt": "LOAD", "DeallocateStmt": "PREPARE", "PrepareStmt": "PREPARE",
    "ExecuteStmt": "PREPARE", "ConstraintsSetStmt": "SET CONSTRAINTS", "AlterTSConfigurationStmt": "ALTER TEXT SEARCH",
    "CreateForeignTableStmt": "CREATE FOREIGN TABLE", "CreateFdwStmt": "CREATE FOREIGN DATA WRAPPER",
    "CreateForeignServerStmt": "CREATE SERVER", "CreateUserMappingStmt": "CREATE USER MAPPING",
    "ImportForeignSchemaStmt": "IMPORT FOREIGN SCHEMA", "CreateTransformStmt": "CREATE TRANSFORM",
    "CreatePLangStmt": "CREATE LANGUAGE", "CreateConversionStmt": "CREATE CONVERSION",
    "AlterObjectDependsStmt": "ALTER ... DEPENDS ON EXTENSION", "ReassignOwnedStmt": "REASSIGN OWNED",
    "DropOwnedStmt": "DROP OWNED", "AlterStatsStmt": "ALTER STATISTICS", "CreateAmStmt": "CREATE ACCESS METHOD",
    "AlterEventTrigStmt": "ALTER EVENT TRIGGER", "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
    "AlterSubscriptionStmt": "ALTER SUBSCRIPTION", "DropSubscriptionStmt": "DROP SUBSCRIPTION",
    "CreateTableSpaceStmt": "CREATE TABLESPACE", "DropTableSpaceStmt": "DROP TABLESPACE",
}


def target(stmt: Statement) -> Optional[str]:
    """The relation a form's `lock` is on: the one the statement names (for DROP, the first)."""
    from .quote import relation_name

    n = stmt.node
    if isinstance(n, ast.CommentStmt) and isinstance(n.object, (list, tuple)):
        parts = [p.sval for p in n.object if isinstance(p, ast.String)]
        return ".".join(parts[:-1] if _word(n.objtype) == "COLUMN" else parts) or None
    for attr in ("relation", "table", "sequence"):
        rel = getattr(n, attr, None)
        if isinstance(rel, ast.RangeVar):
            return relation_name(rel)
    if isinstance(n, ast.CreateTableAsStmt) and n.into is not None:
        return relation_name(n.into.rel)
    if isinstance(n, ast.ViewStmt):
        return relation_name(n.view)
    rels = getattr(n, "relations", None) or getattr(n, "rels", None)
    if rels:
        first = rels[0]
        first = getattr(first, "relation", first)  # VACUUM's VacuumRelation
        return relation_name(first) if isinstance(first, ast.RangeVar) else None
    if isinstance(n, ast.DropStmt) and n.objects:
        obj = n.objects[0]
        parts = [p.sval for p in (obj if isinstance(obj, (list, tuple)) else [obj]) if isinstance(p, ast.String)]
        if n.removeType in (enums.ObjectType.OBJECT_TRIGGER, enums.ObjectType.OBJECT_RULE,
                            enums.ObjectType.OBJECT_POLICY):
            parts = parts[:-1]  # ON table
        return ".".join(parts) or None
    return None


def lookup(stmt: Statement, major: int) -> list[tuple[str, Optional[Form]]]:
    """(key, its row on this major or None: a form the table does not know) for each form of `stmt`."""
    out = stmt.memo.get(("forms", major))
    if out is None:
        from .form_table import BY_KEY  # imported here, once per statement: it imports this module

        out = stmt.memo[("forms", major)] = []
        for key in keys(stmt):
            rows = [f for f in BY_KEY.get(key, ()) if f.holds_on(major)]
            out.append((key, rows[0] if rows else None))
    return list(out)
