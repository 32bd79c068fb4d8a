"""What a managed PostgreSQL (RDS, Cloud SQL, Azure flexible server, Supabase) refuses a plan's
SQL: extensions outside the provider's usual allow-list, and forms that need a superuser,
which none of them grants; read from pglast's parse trees.

The allow-lists are the usual ones, not a promise: each provider's page lists what a given
major version offers, and they change.
- RDS: https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-extensions.html
- Cloud SQL: https://cloud.google.com/sql/docs/postgres/extensions ("You can install only the
  extensions that are supported by Cloud SQL"; creating one needs the cloudsqlsuperuser role)
- Azure: https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-extensions (an
  extension must be allow-listed in the `azure.extensions` server parameter first)
- Supabase: https://supabase.com/docs/guides/database/extensions
"""

from __future__ import annotations

import json
from typing import Literal

from pglast.parser import ParseError, parse_sql_json

Provider = Literal["RDS", "Cloud SQL", "Azure", "Supabase"]
ALL: frozenset[Provider] = frozenset(("RDS", "Cloud SQL", "Azure", "Supabase"))
_NOT_SUPABASE: frozenset[Provider] = frozenset(("RDS", "Cloud SQL", "Azure"))

# extension -> the providers whose usual allow-list has it. One absent here is on none of them.
OFFERED: dict[str, frozenset[Provider]] = {
    **{name: ALL for name in (
        # contrib modules the four offer
        "amcheck", "bloom", "btree_gin", "btree_gist", "citext", "cube", "dblink", "dict_int", "earthdistance",
        "fuzzystrmatch", "hstore", "intarray", "isn", "lo", "ltree", "pg_buffercache", "pg_prewarm",
        "pg_stat_statements", "pg_trgm", "pgcrypto", "pgrowlocks", "pgstattuple", "plpgsql", "postgres_fdw",
        "seg", "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp",
        # widely used third-party extensions the four offer
        "postgis", "postgis_topology", "pgrouting", "vector", "pg_cron", "pgaudit", "hypopg")},
    "pg_repack": _NOT_SUPABASE,
    "pg_partman": _NOT_SUPABASE,
    "pg_hint_plan": _NOT_SUPABASE,
    "pg_visibility": _NOT_SUPABASE,
    "pg_freespacemap": _NOT_SUPABASE,
    "intagg": _NOT_SUPABASE,
    "timescaledb": frozenset(("Azure", "Supabase")),
    "pg_net": frozenset(("Supabase",)),
    "pgsodium": frozenset(("Supabase",)),
    "pg_graphql": frozenset(("Supabase",)),
}

# Marked trusted in PostgreSQL 13+ (pg_available_extension_versions.trusted): a database owner
# without superuser may create them. Any other needs a superuser or the provider's admin role.
TRUSTED = frozenset((
    "btree_gin", "btree_gist", "citext", "cube", "dict_int", "fuzzystrmatch", "hstore", "intarray", "isn", "lo",
    "ltree", "pg_trgm", "pgcrypto", "plpgsql", "seg", "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time",
    "unaccent", "uuid-ossp"))

# Settings only a superuser may SET (no managed service grants them to the migration role).
_SUPERUSER_SETTINGS = {"session_replication_role", "log_statement", "log_min_duration_statement",
                       "lc_messages", "zero_damaged_pages", "ignore_system_indexes", "allow_system_table_mods"}


def extensions_created(sql: str) -> list[str]:
    """The extensions `sql` creates (CREATE EXTENSION), in order."""
    return [node["extname"] for key, node in _nodes(sql) if key == "CreateExtensionStmt"]


# Names well-known extensions add, so SQL that uses them needs the extension: functions, types
# and operator classes (a name a schema defines itself under the same spelling would be a false alarm).
_PROVIDED: dict[str, str] = {
    **dict.fromkeys(("uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4"), "uuid-ossp"),
    **dict.fromkeys(("digest", "hmac", "crypt", "gen_salt", "pgp_sym_encrypt", "pgp_sym_decrypt"), "pgcrypto"),
    **dict.fromkeys(("similarity", "word_similarity", "gin_trgm_ops", "gist_trgm_ops"), "pg_trgm"),
    **dict.fromkeys(("levenshtein", "soundex", "metaphone", "dmetaphone"), "fuzzystrmatch"),
    **dict.fromkeys(("geometry", "geography", "st_makepoint", "st_setsrid", "st_distance", "st_dwithin"),
                    "postgis"),
    **dict.fromkeys(("time_bucket", "create_hypertable", "add_retention_policy"), "timescaledb"),
    **dict.fromkeys(("ll_to_earth", "earth_distance"), "earthdistance"),
    "citext": "citext", "hstore": "hstore", "ltree": "ltree", "vector": "vector", "cube": "cube",
    "unaccent": "unaccent", "isbn13": "isn", "ean13": "isn",
}


def extensions_used(sql: str) -> list[str]:
    """The extensions `sql` creates or calls on (a function, type or operator class one adds), in order."""
    found: list[str] = []
    for key, node in _nodes(sql):
        names: list = []
        if key == "CreateExtensionStmt":
            found.append(node["extname"])
        elif key == "FuncCall":
            names = node.get("funcname", [])
        elif key in ("TypeName", "typeName"):  # a field holding one is named typeName
            names = node.get("names", [])
        elif key == "IndexElem":
            names = node.get("opclass", [])
        last = names[-1].get("String", {}).get("sval", "").lower() if names else ""
        if last in _PROVIDED:
            found.append(_PROVIDED[last])
    return list(dict.fromkeys(found))


def not_offered(extension: str) -> list[Provider]:
    """The providers whose usual allow-list lacks `extension`, in a fixed order."""
    have = OFFERED.get(extension, frozenset())
    return [p for p in ("RDS", "Cloud SQL", "Azure", "Supabase") if p not in have]


def superuser_needs(sql: str) -> list[str]:
    """One line per statement in `sql` that a role without superuser cannot run."""
    out: list[str] = []
    for key, node in _nodes(sql):
        if key == "AlterSystemStmt":
            out.append("ALTER SYSTEM needs a superuser")
        elif key == "CreateEventTrigStmt":
            out.append("CREATE EVENT TRIGGER needs a superuser")
        elif key == "VariableSetStmt" and node.get("name") in _SUPERUSER_SETTINGS:
            out.append(f"SET {node['name']} needs a superuser")
        elif key == "CopyStmt" and node.get("filename"):
            out.append("COPY to or from a server file needs a superuser (or pg_read/write_server_files)")
        elif key == "CreateExtensionStmt" and node["extname"] not in TRUSTED:
            out.append(f"CREATE EXTENSION {node['extname']}: not a trusted extension, so it needs a superuser "
                       "(on a managed server, the provider's admin role)")
        elif key == "AlterTableCmd" and node.get("subtype") in ("AT_DisableTrigAll", "AT_EnableTrigAll"):
            out.append("DISABLE/ENABLE TRIGGER ALL touches the foreign-key triggers: it needs a superuser")
    return list(dict.fromkeys(out))


def _nodes(sql: str):
    try:
        tree = json.loads(parse_sql_json(sql))
    except ParseError:
        return
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict):
                    yield key, value
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(reversed(node))
