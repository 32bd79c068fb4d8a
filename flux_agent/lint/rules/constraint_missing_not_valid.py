"""A constraint added without NOT VALID checks every row while it holds its lock;
and VALIDATE CONSTRAINT in the same transaction as the NOT VALID add runs that
scan under the add's ACCESS EXCLUSIVE lock, which defeats the purpose. As in
squawk, every ADD CONSTRAINT counts except those built USING INDEX; for the
kinds that cannot be NOT VALID (UNIQUE, PRIMARY KEY, EXCLUDE) the message
says what to do instead."""

from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType

from ...pg.locks import added_constraint, alter_cmds
from ...pg.quote import relation_name
from ._rule import Rule, Verdict, flags, passes

RULE = Rule(
    id="constraint-missing-not-valid",
    severity="error",
    message="adding a constraint without NOT VALID checks every row while blocking writes",
    hint="ADD CONSTRAINT ... NOT VALID in one transaction, VALIDATE CONSTRAINT in a later one",
    squawk="default",
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE accounts ADD CONSTRAINT positive CHECK (balance >= 0);"),
        flags("ALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id);",
              transactional=False),
        flags("ALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
              "ALTER TABLE emails VALIDATE CONSTRAINT fk_user;", why="same transaction: scans under the add's lock"),
        flags("BEGIN;\n"
              "ALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
              "ALTER TABLE emails VALIDATE CONSTRAINT fk_user;\n"
              "COMMIT;", transactional=False),
        flags("ALTER TABLE products ADD CONSTRAINT products_sku_unique UNIQUE (sku);",
              hint="CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX (a quick "
                   "catalog change)"),
        passes("ALTER TABLE accounts ADD CONSTRAINT positive CHECK (balance >= 0) NOT VALID;"),
        passes("BEGIN;\n"
               "ALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
               "COMMIT;\n"
               "BEGIN;\n"
               "ALTER TABLE emails VALIDATE CONSTRAINT fk_user;\n"
               "COMMIT;", transactional=False),
        passes("ALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
               "ALTER TABLE emails VALIDATE CONSTRAINT fk_user;", transactional=False,
               why="autocommit: two transactions"),
        passes("CREATE TABLE t (age int);\nALTER TABLE t ADD CONSTRAINT age_ok CHECK (age >= 25);"),
        passes("ALTER TABLE app_email ADD CONSTRAINT email_uniq UNIQUE USING INDEX email_idx;"),
    ],
)

_KIND = {ConstrType.CONSTR_CHECK: "CHECK", ConstrType.CONSTR_FOREIGN: "FOREIGN KEY",
         ConstrType.CONSTR_NOTNULL: "NOT NULL", ConstrType.CONSTR_UNIQUE: "UNIQUE",
         ConstrType.CONSTR_PRIMARY: "PRIMARY KEY", ConstrType.CONSTR_EXCLUSION: "EXCLUDE"}
_INDEXED = (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_EXCLUSION)


def _kind(stmt):
    kind = getattr(stmt.node, "kind", None)
    return kind.name if isinstance(stmt.node, ast.TransactionStmt) and kind is not None else None


def _not_valid_in_this_transaction(stmt, ctx):
    """Names of constraints added NOT VALID earlier in the transaction `stmt` runs in."""
    names, explicit = set(), False
    implicit = ctx.transactional or (ctx.one_query and len(ctx.statements) > 1)
    for s in ctx.statements[:stmt.index]:
        kind = _kind(s)
        if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
            explicit = True
        elif kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE"):
            explicit = False
            names.clear()
        elif isinstance(s.node, ast.AlterTableStmt):
            for cmd in alter_cmds(s.node):
                con = added_constraint(cmd)
                if con is not None and con.skip_validation and con.conname:
                    names.add((relation_name(s.node.relation), con.conname))
        if not (explicit or implicit):
            names.clear()  # autocommit: each statement is its own transaction
    return names


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.AlterTableStmt):
        return None
    table = relation_name(n.relation)
    for cmd in alter_cmds(n):
        if cmd.subtype == AT.AT_ValidateConstraint and ctx.in_transaction() \
                and (table, cmd.name) in _not_valid_in_this_transaction(stmt, ctx):
            return Verdict(f"VALIDATE CONSTRAINT {cmd.name} runs in the same transaction as its NOT VALID add, so "
                           "the scan happens under the add's ACCESS EXCLUSIVE lock and blocks reads and writes")
    if ctx.table_is_new(table):
        return None  # a table created in this migration has no rows to scan
    for cmd in alter_cmds(n):
        con = added_constraint(cmd)
        if con is None or con.skip_validation or con.indexname or con.contype not in _KIND:
            continue
        what = f"{_KIND[con.contype]} constraint" + (f" {con.conname}" if con.conname else "")
        # The hint for these says what can be done instead: NOT VALID is not a form they have.
        if con.contype == ConstrType.CONSTR_EXCLUSION:
            return Verdict(f"{what} builds its index under ACCESS EXCLUSIVE, blocking reads and writes, and can be "
                           "neither NOT VALID nor built concurrently",
                           hint="PostgreSQL has no online form: add it while the table is small or in a maintenance "
                                "window, with a lock_timeout")
        if con.contype in _INDEXED:
            kind = _KIND[con.contype]
            return Verdict(f"{what} builds its index under ACCESS EXCLUSIVE, blocking reads and writes, and cannot "
                           "be NOT VALID",
                           hint=f"CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... {kind} USING INDEX "
                                "(a quick catalog change)")
        lock = "SHARE ROW EXCLUSIVE on both tables, blocking writes" if con.contype == ConstrType.CONSTR_FOREIGN \
            else "ACCESS EXCLUSIVE, blocking reads and writes"
        return Verdict(f"{what} added without NOT VALID scans the table under {lock}")
    return None
