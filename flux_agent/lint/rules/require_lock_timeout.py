"""DDL with no `SET lock_timeout` earlier in the file. A DDL statement that waits
for its lock queues every later query on the table behind it; lock_timeout makes
it give up instead. Reported once per file, at the first such statement, as
squawk does. require-statement-timeout shares this module's helpers."""

from pglast import ast
from pglast.enums import ConstrType

from ...pg.locks import ACCESS_EXCLUSIVE, NO_LOCK, SHARE_ROW_EXCLUSIVE, facts
from ...pg.quote import relation_name
from ._rule import Rule, Verdict, flags, passes

RULE = Rule(
    id="require-lock-timeout",
    severity="warning",
    message=("DDL without SET lock_timeout first: while it waits for its lock, later queries on the table queue "
             "behind it"),
    hint="start the migration with SET lock_timeout = '1s' (SET LOCAL inside a transaction) and retry on timeout",
    squawk="default",
    examples=[
        flags("ALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;"),
        flags("ALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;\nSET lock_timeout = '1s';"),
        flags("SET statement_timeout = '5s';\n"
              "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c);", transactional=False),
        flags("CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);",
              transactional=False, one_query=True,
              hint="set lock_timeout on the role that runs the migrations (ALTER ROLE ... SET lock_timeout = '1s') or on the "
                   "connection (PGOPTIONS='-c lock_timeout=1s'), or ignore with a reason"),
        flags("CREATE TABLE reviews (id bigint, product_id bigint REFERENCES products (id));"),
        passes("SET LOCAL lock_timeout = '1s';\nALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;"),
        passes("UPDATE users SET nick = name WHERE id < 1000;"),
        passes("CREATE TABLE IF NOT EXISTS t (id bigint);"),
        passes("CREATE TYPE \"enum_Items_state\" AS ENUM ('a', 'b');\nCREATE SEQUENCE s;\n"
               "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';", squawk_agrees=False,
               why="a new type, sequence or function locks no table: nothing to wait for, nobody queues behind it "
                   "(Sequelize's ENUM column makes its type first)"),
        passes("CREATE TABLE t (id bigint);\nCREATE INDEX IF NOT EXISTS t_id_idx ON t (id);", squawk_agrees=False,
               why="nobody else can hold or wait for a lock on a table created in this migration"),
        passes("CREATE TABLE f (id bigint PRIMARY KEY);\nCREATE TABLE u (id bigint, f_id bigint);\n"
               "ALTER TABLE u ADD CONSTRAINT u_f_fk FOREIGN KEY (f_id) REFERENCES f (id);", squawk_agrees=False,
               why="both tables the key locks are new (TypeORM's generated CreateUser)"),
        flags("CREATE TABLE u (id bigint, f_id bigint);\n"
              "ALTER TABLE u ADD CONSTRAINT u_f_fk FOREIGN KEY (f_id) REFERENCES products (id);",
              why="the key locks products, which others use"),
    ],
)

# Statements squawk does not count as possibly slow: DML, session and transaction
# control, and CREATE TABLE unless a foreign key locks the referenced table.
_QUICK = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt, ast.VariableSetStmt,
          ast.VariableShowStmt, ast.TransactionStmt, ast.CopyStmt, ast.DoStmt, ast.CallStmt, ast.ExplainStmt,
          ast.GrantStmt, ast.GrantRoleStmt, ast.PrepareStmt, ast.ExecuteStmt, ast.DeallocateStmt,
          ast.DeclareCursorStmt, ast.FetchStmt, ast.ClosePortalStmt, ast.ListenStmt, ast.NotifyStmt,
          ast.UnlistenStmt, ast.CheckPointStmt, ast.DiscardStmt, ast.ConstraintsSetStmt, ast.ReassignOwnedStmt,
          ast.SecLabelStmt, ast.CreateStmt)
_BLOCKING = (ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, "SHARE", "EXCLUSIVE")
# Statements that make a new object other than a table and lock no table: a type (an enum, a composite,
# a range, a base type, an aggregate or operator), a domain, a sequence, a schema, a function (replaced,
# it waits for no query that calls it).
_NEW_OBJECTS = (ast.CreateEnumStmt, ast.CompositeTypeStmt, ast.CreateRangeStmt, ast.DefineStmt,
                ast.CreateDomainStmt, ast.CreateSeqStmt, ast.CreateSchemaStmt, ast.CreateFunctionStmt)


def _foreign_key(stmt, ctx) -> bool:
    """Does the statement lock, through a foreign key, a table this migration did not create?
    (TypeORM's generated CreateUser makes every table, then their keys: none can wait.)"""
    referenced = stmt.memo.get("foreign_key")  # asked again of every earlier statement by each later one
    if referenced is None:
        referenced = stmt.memo["foreign_key"] = [
            relation_name(x.pktable) if x.pktable is not None else None
            for x in stmt.nodes if isinstance(x, ast.Constraint) and x.contype == ConstrType.CONSTR_FOREIGN]
    return any(name is None or not ctx.table_is_new(name) for name in referenced)


def possibly_slow(stmt, ctx) -> bool:
    n = stmt.node
    if isinstance(n, ast.CreateStmt):
        return _foreign_key(stmt, ctx)  # locks the referenced table (SHARE ROW EXCLUSIVE)
    if isinstance(n, _QUICK) or (isinstance(n, _NEW_OBJECTS) and facts(stmt).lock == NO_LOCK):
        return False
    if isinstance(n, ast.VacuumStmt) and not n.is_vacuumcmd:
        return False  # ANALYZE
    # Only a table created earlier in this migration, and no other table locked through a
    # foreign key: nobody else can hold or wait for that lock.
    rel = getattr(n, "relation", None)
    if isinstance(rel, ast.RangeVar) and ctx.table_is_new(relation_name(rel)) and not _foreign_key(stmt, ctx):
        return False
    return True


def first_unprotected(stmt, ctx, already_set: bool) -> bool:
    """Is `stmt` the first possibly slow statement of the file, with the timeout not yet set?"""
    if already_set or not possibly_slow(stmt, ctx):
        return False
    return not _earlier_slow(stmt, ctx)


def _earlier_slow(stmt, ctx) -> bool:
    """Is a statement before `stmt` possibly slow, as the file context stands now? Asked by both
    timeout rules of every statement: the scan goes on from where the last one stopped while the
    tables created are the same (possibly_slow reads nothing else of the context; they only grow, so
    the same count is the same set). Rescanning from the top each time was quadratic in a file of
    many new tables' keys (TypeORM's generated migrations)."""
    memo = ctx.__dict__.get("_slow_scan")
    if memo is None or memo[0] != len(ctx.created_tables) or memo[1] > stmt.index:
        memo = ctx.__dict__["_slow_scan"] = [len(ctx.created_tables), 0, False]
    while not memo[2] and memo[1] < stmt.index:
        memo[2] = possibly_slow(ctx.statements[memo[1]], ctx)
        memo[1] += 1
    return memo[2]


def must_stand_alone(stmt, ctx) -> bool:
    """Alone in a file the tool sends as one query, outside a transaction, because it cannot
    run in a transaction block: a SET before it would put both in an implicit transaction."""
    n = stmt.node
    cannot = facts(stmt).forbidden_in_transaction or (isinstance(n, ast.VacuumStmt) and n.is_vacuumcmd) or any(
        isinstance(x, ast.PartitionCmd) and x.concurrent for x in stmt.nodes)
    return cannot and ctx.one_query and not ctx.transactional and len(ctx.statements) == 1


def alone(message: str, setting: str) -> Verdict:
    """The finding where no SET in the file can fix it (must_stand_alone): said why, and the fix there
    is (the rule's own hint, "start the migration with SET", would contradict it)."""
    return Verdict(f"{message}; it must be alone in its file (the tool sends the file as one query), so no SET "
                   "can precede it",
                   hint=f"set {setting} on the role that runs the migrations (ALTER ROLE ... SET {setting} = '1s') or "
                        f"on the connection (PGOPTIONS='-c {setting}=1s'), or ignore with a reason")


def waiting_effect(stmt) -> str:
    """What queues behind this statement while it waits for its lock."""
    lock = facts(stmt).lock
    if isinstance(stmt.node, ast.CreateStmt):
        return (f"while it waits for its {SHARE_ROW_EXCLUSIVE} lock on the referenced table, writes to that table "
                "queue behind it")
    if lock == ACCESS_EXCLUSIVE:
        return f"while it waits for its {lock} lock, all reads and writes on the table queue behind it"
    if lock in _BLOCKING:
        return f"while it waits for its {lock} lock, writes on the table queue behind it"
    return "it may wait for its lock for as long as other sessions hold conflicting ones"


def check(stmt, ctx):
    if not first_unprotected(stmt, ctx, ctx.lock_timeout_set):
        return None
    message = f"no SET lock_timeout before this statement: {waiting_effect(stmt)}"
    return alone(message, "lock_timeout") if must_stand_alone(stmt, ctx) else Verdict(message)
