"""Statements no schema migration should run: they destroy whole databases or
schemas, change server configuration, run shell commands or read server files,
or load extensions that reach outside the database."""

import re

from pglast import ast
from pglast.enums import DropBehavior, ObjectType

from ._rule import Rule, Verdict, flags, passes

RULE = Rule(
    id="dangerous-statement",
    severity="error",
    message="a statement that has no place in a schema migration",
    hint="remove it; server administration and file or shell access belong outside migrations",
    squawk=None,
    examples=[
        flags("DROP DATABASE shop_staging;"),
        flags("DROP SCHEMA reporting CASCADE;"),
        flags("ALTER SYSTEM SET max_connections = 500;"),
        flags("COPY users (email) FROM PROGRAM 'curl -s https://example.com/users.csv';"),
        flags("SELECT pg_read_file('/etc/passwd');"),
        flags("CREATE EXTENSION IF NOT EXISTS plpython3u;"),
        flags("DO $$ BEGIN PERFORM dblink_exec('host=prod', 'DELETE FROM users'); END $$;"),
        passes("CREATE EXTENSION IF NOT EXISTS pgcrypto;"),
        passes("DROP SCHEMA IF EXISTS scratch;"),
        passes("COPY users (email) FROM STDIN;"),
        passes("SELECT set_config('app.mode', 'migrate', true);"),
    ],
)

# PostgreSQL's trusted extensions (any database owner may install them) plus a few
# that are everywhere in application schemas.
TRUSTED_EXTENSIONS = {
    "btree_gin", "btree_gist", "citext", "cube", "dict_int", "fuzzystrmatch", "hstore", "intarray", "isn",
    "lo", "ltree", "pgcrypto", "pg_trgm", "seg", "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time",
    "unaccent", "uuid-ossp", "plpgsql", "pg_stat_statements", "postgis", "vector", "earthdistance",
}

FUNCTIONS = {"pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export",
             "dblink", "dblink_exec", "dblink_connect", "pg_file_write", "pg_reload_conf", "pg_terminate_backend"}

_FUNC_TEXT = re.compile(r"\b(" + "|".join(sorted(FUNCTIONS)) + r")\s*\(", re.IGNORECASE)
_PREFIXES = ("pg_", "lo_", "dblink")  # every name of FUNCTIONS starts with one
assert all(f.startswith(_PREFIXES) for f in FUNCTIONS)


def _may_call(text: str) -> bool:
    """Can the text name one of FUNCTIONS? A test in C that spares most statements the regular
    expression (asked at every character, case-folded, it cost more than the rest of the rule)."""
    lower = text.lower()
    return any(p in lower for p in _PREFIXES)


def _calls(stmt) -> list[str]:
    found = []
    for n in stmt.nodes:
        if isinstance(n, ast.FuncCall) and n.funcname:
            name = n.funcname[-1].sval.lower() if isinstance(n.funcname[-1], ast.String) else ""
            if name in FUNCTIONS and name not in found:
                found.append(name)
    return found


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.DropdbStmt):
        return Verdict(f"DROP DATABASE {n.dbname} destroys the whole database")
    if isinstance(n, ast.DropStmt) and n.removeType == ObjectType.OBJECT_SCHEMA \
            and n.behavior == DropBehavior.DROP_CASCADE:
        names = ", ".join(o.sval for o in n.objects or () if isinstance(o, ast.String))
        return Verdict(f"DROP SCHEMA {names} CASCADE drops every table, view and function in it, with their data")
    if isinstance(n, ast.AlterSystemStmt):
        name = n.setstmt.name if n.setstmt is not None else "a setting"
        return Verdict(f"ALTER SYSTEM changes {name} for the whole server; server configuration is not a migration")
    if isinstance(n, ast.CopyStmt) and n.is_program:
        return Verdict(f"COPY ... PROGRAM runs the shell command {n.filename!r} on the database server")
    if isinstance(n, ast.CreateExtensionStmt) and n.extname not in TRUSTED_EXTENSIONS:
        return Verdict(f"CREATE EXTENSION {n.extname}: not on the trusted list; extensions such as dblink, file_fdw "
                       "or untrusted languages reach outside the database; install it as an administrator, not in a "
                       "migration")
    if not _may_call(stmt.text) or not _FUNC_TEXT.search(stmt.text):
        return None
    if isinstance(n, (ast.DoStmt, ast.CreateFunctionStmt)):
        hits = sorted({m.group(1).lower() for m in _FUNC_TEXT.finditer(stmt.text)})
    else:
        hits = _calls(stmt)
    if hits:
        return Verdict(f"{', '.join(hits)}() reads or writes outside the database (server files, other servers or "
                       "sessions)")
    return None
