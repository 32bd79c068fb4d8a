"""Outside a transaction, a migration that fails part way leaves the first
statements applied; rerunning it then fails on them unless each is idempotent
(IF [NOT] EXISTS). Same statements and same exemptions as squawk, and one more: a
file's only statement that changes anything (it fails whole or not at all)."""

from pglast import ast
from pglast.enums import AlterTableType as AT, ObjectType, OnCommitAction

from ...pg.locks import added_constraint, alter_cmds
from ._rule import Rule, Verdict, flags, passes

# No transaction can hold a concurrent build, and IF NOT EXISTS alone would keep the INVALID index.
_CONCURRENT_HINT = ("drop what a failed build left first (DROP INDEX CONCURRENTLY IF EXISTS, its own statement), "
                    "then build with IF NOT EXISTS")

RULE = Rule(
    id="prefer-robust-stmts",
    severity="warning",
    message="outside a transaction this statement cannot be rerun if the migration fails part way through",
    hint="add IF [NOT] EXISTS, or run the migration in a transaction",
    squawk="default",
    examples=[
        flags("CREATE TABLE a (id int);\nALTER TABLE core_foo ADD COLUMN answer_id integer NULL;", transactional=False),
        flags("CREATE INDEX CONCURRENTLY core_foo_idx ON core_foo (answer_id);", transactional=False,
              hint=_CONCURRENT_HINT),
        flags("CREATE INDEX CONCURRENTLY core_foo_idx ON core_foo (answer_id);", hint=_CONCURRENT_HINT),
        flags("DROP INDEX CONCURRENTLY email_idx;\nDROP INDEX CONCURRENTLY name_idx;", transactional=False),
        flags("ALTER TABLE t ALTER COLUMN c SET NOT NULL;\nALTER TABLE u ADD COLUMN d text;", transactional=False),
        flags("ALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE u RENAME COLUMN a TO b;", transactional=False),
        passes("SELECT 1;\nALTER TABLE core_foo ADD COLUMN answer_id integer NULL;", transactional=False,
               squawk_agrees=False, why="the file's one statement that changes anything fails whole or not at all: "
                                        "a rerun finds nothing done (inbox-zero's and formbricks' Prisma files: 164 "
                                        "such warnings)"),
        passes("ALTER TABLE t ALTER COLUMN c SET NOT NULL;", transactional=False, squawk_agrees=False,
               why="one statement: nothing is left half done"),
        passes("ALTER TABLE core_foo ADD COLUMN IF NOT EXISTS answer_id integer NULL;", transactional=False),
        passes("BEGIN;\nALTER TABLE core_foo ADD COLUMN answer_id integer NULL;\nCOMMIT;", transactional=False),
        passes("ALTER TABLE core_foo ADD COLUMN answer_id integer NULL;"),
        passes("CREATE INDEX CONCURRENTLY ON core_foo (answer_id);", transactional=False),
        passes("ALTER TABLE app_email DROP CONSTRAINT IF EXISTS email_uniq;\n"
               "ALTER TABLE app_email ADD CONSTRAINT email_uniq UNIQUE USING INDEX email_idx;", transactional=False),
        passes("CREATE TEMP TABLE scratch (id int) ON COMMIT DROP;", transactional=False),
        passes("ALTER TABLE a ADD COLUMN c text;\n"
               "ALTER TABLE b ADD COLUMN d text;", transactional=False, one_query=True,
               squawk_agrees=False, why="a file the tool sends as one query runs in one implicit transaction: "
                                        "nothing is left half done (squawk does not know how the tool sends it)"),
    ],
)

_IF_NOT_EXISTS = Verdict("missing IF NOT EXISTS: " + RULE.message)
# CREATE INDEX CONCURRENTLY in a file the tool wraps in a transaction fails there (another rule says so);
# this one's word is that a failed build leaves an INVALID index, which a rerun trips on without IF NOT EXISTS.
_CONCURRENT_LEFT = Verdict("missing IF NOT EXISTS: a failed CONCURRENTLY build leaves an INVALID index behind, and "
                           "a rerun then fails on its name",
                           hint=_CONCURRENT_HINT)
_IF_EXISTS = Verdict("missing IF EXISTS: " + RULE.message)
_NO_TX = Verdict("missing transaction: " + RULE.message)


def _alter_problems(node, dropped):
    """squawk's per-action verdicts for one ALTER TABLE; `dropped` tracks constraint
    names dropped earlier (a re-add or VALIDATE of those is fine) and is updated."""
    out = []
    for cmd in alter_cmds(node):
        con = added_constraint(cmd)
        if cmd.subtype == AT.AT_DropConstraint:
            dropped[cmd.name] = "dropped"
            out.append(None if cmd.missing_ok else _IF_EXISTS)
        elif cmd.subtype == AT.AT_AddColumn:
            out.append(None if cmd.missing_ok else _IF_NOT_EXISTS)
        elif cmd.subtype == AT.AT_DropColumn:
            out.append(None if cmd.missing_ok else _IF_EXISTS)
        elif cmd.subtype == AT.AT_ValidateConstraint:
            out.append(None if cmd.name in dropped else _NO_TX)
        elif con is not None and con.conname and dropped.get(con.conname) == "dropped":
            dropped[con.conname] = "added"
            out.append(None)
        else:
            out.append(_NO_TX)
    return out


_NO_CHANGE = (ast.VariableSetStmt, ast.SelectStmt, ast.TransactionStmt)


def _alone(stmt, ctx) -> bool:
    """Is it the file's one statement that changes anything? A failure then leaves nothing done,
    and a rerun needs no IF [NOT] EXISTS. (The file's changing statements are found once: asked of
    every statement, the scan was quadratic in a file of many.)"""
    memo = ctx.__dict__.get("_changing")
    if memo is None or memo[0] is not ctx.statements:
        memo = ctx.__dict__["_changing"] = (ctx.statements, [s.index for s in ctx.statements
                                                             if not isinstance(s.node, _NO_CHANGE)])
    return not memo[1] or memo[1] == [stmt.index]


def check(stmt, ctx):
    n = stmt.node
    if _alone(stmt, ctx) and not (isinstance(n, ast.IndexStmt) and n.concurrent):
        return None
    if isinstance(n, ast.AlterTableStmt) and n.objtype == ObjectType.OBJECT_TABLE:
        if ctx.in_transaction():
            return None
        dropped = {}
        for s in ctx.statements[:stmt.index]:
            if isinstance(s.node, ast.AlterTableStmt) and s.node.objtype == ObjectType.OBJECT_TABLE:
                _alter_problems(s.node, dropped)
        problems = [p for p in _alter_problems(n, dropped) if p]
        return problems[0] if problems else None
    if isinstance(n, ast.IndexStmt):
        # A failed CONCURRENTLY build leaves an index behind even inside a transaction-managed migration.
        if n.idxname and not n.if_not_exists and (n.concurrent or not ctx.in_transaction()):
            return _CONCURRENT_LEFT if n.concurrent else _IF_NOT_EXISTS
        return None
    if ctx.in_transaction():
        return None
    if isinstance(n, ast.CreateStmt) and not n.if_not_exists:
        temp_dropped = n.relation.relpersistence == "t" and n.oncommit == OnCommitAction.ONCOMMIT_DROP
        return None if temp_dropped else _IF_NOT_EXISTS
    if isinstance(n, ast.RenameStmt) and ObjectType.OBJECT_TABLE in (n.renameType, n.relationType) \
            or isinstance(n, ast.RenameStmt) and n.renameType == ObjectType.OBJECT_TABCONSTRAINT \
            or isinstance(n, ast.AlterObjectSchemaStmt) and n.objectType == ObjectType.OBJECT_TABLE:
        return _NO_TX  # ALTER TABLE ... RENAME / SET SCHEMA: squawk's other ALTER TABLE actions
    if isinstance(n, ast.DropStmt) and not n.missing_ok and n.removeType in (
            ObjectType.OBJECT_INDEX, ObjectType.OBJECT_TABLE, ObjectType.OBJECT_TYPE):
        return _IF_EXISTS
    return None
