"""A value ALTER TYPE ... ADD VALUE adds is used later in the same transaction: PostgreSQL
refuses it ("unsafe use of new enum value") until the ADD VALUE commits, so the migration fails
at deploy. A tool that sends the file as one query (golang-migrate, dbmate, Prisma) or wraps it in
a transaction makes every statement of the file one transaction."""

from typing import Optional

from pglast import ast

from ..context import FileContext, block_change
from ._rule import Rule, Verdict, flags, passes

_SCHEMA = ("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n"
           "CREATE TABLE notes (id bigint PRIMARY KEY, feeling mood, body text);")

RULE = Rule(
    id="enum-value-used-before-commit",
    severity="error",
    message="a value added to an enum is used before the ADD VALUE commits: PostgreSQL refuses it",
    hint="commit the ADD VALUE first: keep it in a migration of its own (or outside the transaction), and "
         "use the value in a later migration",
    squawk=None,
    reads_schema=True,  # which columns hold the enum
    examples=[
        flags("ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';\nUPDATE notes SET feeling = 'meh' WHERE feeling IS NULL;",
              schema_sql=_SCHEMA),
        flags("ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';\nSELECT count(*) FROM notes WHERE feeling = 'meh';",
              schema_sql=_SCHEMA, one_query=True, transactional=False, why="one query is one transaction"),
        flags("BEGIN;\nALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';\nALTER TABLE notes ALTER COLUMN feeling SET "
              "DEFAULT 'meh';\nCOMMIT;", schema_sql=_SCHEMA, transactional=False),
        flags("ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';\nINSERT INTO notes (id, feeling) VALUES (1, 'meh');",
              schema_sql=_SCHEMA),
        flags("ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';\nSELECT 'meh'::mood;", schema_sql=_SCHEMA),
        passes("ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';\nUPDATE notes SET feeling = 'meh' WHERE feeling IS NULL;",
               schema_sql=_SCHEMA, transactional=False, why="autocommit: the ADD VALUE commits before the UPDATE"),
        passes("BEGIN;\nALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';\nCOMMIT;\nUPDATE notes SET feeling = 'meh';",
               schema_sql=_SCHEMA, transactional=False, why="committed before it is used"),
        passes("ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';\nUPDATE notes SET body = 'meh' WHERE feeling = 'ok';",
               schema_sql=_SCHEMA, why="the text column takes the string; the enum column compares an old value"),
    ],
)



def _last(names) -> str:
    return names[-1].sval if names and isinstance(names[-1], ast.String) else ""


def _type_of(type_name: str) -> str:
    """A column's type as the schema prints it (`public.mood`, `"Mood"`, `mood[]`), as an enum's bare name."""
    return type_name.split("[", 1)[0].rsplit(".", 1)[-1].strip('"')


def _typed_columns(ctx: FileContext, enum: str) -> set[str]:
    """The names of columns of type `enum`: in the schema before the file, and made in it."""
    found = set()
    schema = ctx.names_schema()
    for table in schema.tables if schema is not None else ():
        found.update(c.name for c in table.columns if _type_of(c.type) == enum)
    for s in ctx.statements:
        for n in s.nodes if isinstance(s.node, (ast.CreateStmt, ast.AlterTableStmt)) else ():
            if isinstance(n, ast.ColumnDef) and n.typeName is not None and _last(n.typeName.names) == enum:
                found.add(n.colname)
    return found


def _const(node) -> Optional[str]:
    return node.val.sval if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String) else None


def _read_as_enum(stmt, typed: set[str], enum: str) -> set[str]:
    """The string constants `stmt` makes PostgreSQL read as `enum`: cast to it, set into, compared
    with, inserted into or defaulted for a column of it (`typed`: those columns' names)."""
    out = set()

    def column(node) -> Optional[str]:
        return _last(node.fields) if isinstance(node, ast.ColumnRef) else None

    for n in stmt.nodes:
        if isinstance(n, ast.TypeCast) and n.typeName is not None and _last(n.typeName.names) == enum:
            out.add(_const(n.arg))
        elif isinstance(n, ast.ResTarget) and n.name in typed:  # UPDATE ... SET col = 'x'
            out.add(_const(n.val))
        elif isinstance(n, ast.A_Expr):  # col = 'x', col IN ('x', 'y'), 'x' <> col
            for a, b in ((n.lexpr, n.rexpr), (n.rexpr, n.lexpr)):
                if column(a) in typed:
                    out.update(map(_const, b if isinstance(b, (list, tuple)) else (b,)))
        elif isinstance(n, ast.AlterTableCmd) and n.name in typed and n.def_ is not None:  # SET DEFAULT 'x'
            out.add(_const(n.def_))
        elif isinstance(n, ast.ColumnDef) and n.typeName is not None and _last(n.typeName.names) == enum:
            out.update(_const(c.raw_expr) for c in n.constraints or () if isinstance(c, ast.Constraint))
        elif isinstance(n, ast.InsertStmt) and n.cols and isinstance(n.selectStmt, ast.SelectStmt):
            at = [k for k, c in enumerate(n.cols) if c.name in typed]
            for row in n.selectStmt.valuesLists or ():
                out.update(_const(row[k]) for k in at if k < len(row))
    out.discard(None)
    return out


def _used(stmt, added: dict[str, tuple[str, int]], ctx: FileContext, columns: dict[str, set[str]]) -> Optional[str]:
    """A value added in this transaction that `stmt` makes PostgreSQL read as its enum."""
    if not any(_const(n) in added for n in stmt.nodes if isinstance(n, ast.A_Const)):
        return None  # (most statements: no string of a new value at all)
    for enum in sorted({e for e, _ in added.values()}):
        typed = columns[enum] if enum in columns else columns.setdefault(enum, _typed_columns(ctx, enum))
        found = sorted(v for v in _read_as_enum(stmt, typed, enum) if v in added and added[v][0] == enum)
        if found:
            return found[0]
    return None


def check_file(ctx: FileContext) -> list[Verdict]:
    if ctx.pg_version < 12 or not any(isinstance(s.node, ast.AlterEnumStmt) for s in ctx.statements):
        return []  # (before 12 ADD VALUE cannot run in a transaction block at all)
    whole = ctx.transactional or (ctx.one_query and len(ctx.statements) > 1)
    explicit, added, columns, out = False, {}, {}, []
    for s in ctx.statements:
        n = s.node
        if isinstance(n, ast.TransactionStmt):
            change = block_change(n)
            if change is not None:
                explicit, added = change, added if change else {}
            continue
        if isinstance(n, ast.AlterEnumStmt):
            if n.newVal and not n.oldVal and (whole or explicit):
                added[n.newVal] = (_last(n.typeName), s.line)
            continue
        value = _used(s, added, ctx, columns) if added else None
        if value is not None:
            enum, line = added[value]
            out.append(Verdict(f"'{value}' is added to {enum} at line {line} and used here in the same transaction: "
                               "PostgreSQL refuses it (unsafe use of new value) until the ADD VALUE commits",
                               line=s.line))
    return out
