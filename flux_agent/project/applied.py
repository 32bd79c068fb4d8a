"""Which migration files a database has run, read from the migration tool's own table (dbmate's
schema_migrations, alembic_version, django_migrations, ...): what `flux fix` checks before it
replaces a file, and what `flux status` shows beside the catalogs."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Optional

# Where each tool records what ran: (table, column, what of the file it keeps). golang-migrate keeps only
# the last version (`version_at_least`); alembic only its heads (ancestors are looked up in the folder).
TABLES = {
    "sql": ("schema_migrations", "version", "number"),
    "dbmate": ("schema_migrations", "version", "number"),
    "rails": ("schema_migrations", "version", "number"),
    "golang-migrate": ("schema_migrations", "version", "version_at_least"),
    "goose": ("goose_db_version", "version_id", "number"),
    "flyway": ("flyway_schema_history", "script", "name"),
    "knex": ("knex_migrations", "name", "name"),
    "sequelize": ("SequelizeMeta", "name", "name"),
    "node-pg-migrate": ("pgmigrations", "name", "stem"),
    "typeorm": ("migrations", "timestamp", "number"),
    "django": ("django_migrations", "name", "stem"),
    "prisma": ("_prisma_migrations", "migration_name", "folder"),
    "drizzle": ("drizzle.__drizzle_migrations", "hash", "sha256"),
    "alembic": ("alembic_version", "version_num", "revision"),
}




def runs_table(tool: str, project: Path, migrations_dir: Optional[str] = None) -> Optional[str]:
    """The table `tool` records its runs in for this project: TABLES's, but drizzle's where the
    project's drizzle.config names its own (`migrations: { table, schema }`: dokploy's
    public.migrations), knex's where its knexfile does, Flyway's where its configuration sets
    `table` (`spring.flyway.table=schema_version`), in its default schema."""
    if tool == "flyway":
        from ..schema.flyway_config import settings

        conf = settings(str((Path(project) / (migrations_dir or ".")).resolve()))
        return conf.table if conf.default_schema == "public" else f"{conf.default_schema}.{conf.table}"
    if tool == "drizzle":
        from .drizzle_config import migrations_table

        return ".".join(migrations_table(project, Path(migrations_dir) if migrations_dir else None))
    if tool == "knex":
        return _knex_table(project, migrations_dir) or TABLES[tool][0]
    if tool == "node-pg-migrate":
        return _node_pg_migrate_table(project, migrations_dir) or TABLES[tool][0]
    return TABLES[tool][0] if tool in TABLES else None


def _node_pg_migrate_table(project: Path, migrations_dir: Optional[str]) -> Optional[str]:
    """The table the package's node-pg-migrate script names (`-t schema_migrations`, with
    `--migrations-schema`)."""
    from ..devdb.runners import _node, node_pg_migrate

    root = _node.package_root(Path(project), Path(project) / (migrations_dir or "."))
    args = node_pg_migrate.script_args(root)
    said = {"-t": "table", "--migrations-table": "table", "--migrations-schema": "schema"}
    named: dict[str, str] = {}
    for i, word in enumerate(args):
        name, eq, value = word.partition("=")
        if name in said:
            named[said[name]] = value if eq else (args[i + 1] if i + 1 < len(args) else "")
    table = named.get("table")
    return f"{named['schema']}.{table}" if table and named.get("schema") else table


_KNEX_TABLE = re.compile(r"migrations\s*:\s*\{[^}]*?tableName\s*:\s*['\"`]([^'\"`]+)['\"`]", re.S)


def _knex_table(project: Path, migrations_dir: Optional[str]) -> Optional[str]:
    """The `migrations.tableName` of the nearest knexfile above the migrations (Infisical's
    infisical_migrations), read as detection reads its directory; None where none names one."""
    from .places import folders_up

    for folder in folders_up(Path(project), migrations_dir or "."):
        for ext in ("js", "ts", "cjs", "mjs"):
            try:
                found = _KNEX_TABLE.search((folder / f"knexfile.{ext}").read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
            return found.group(1) if found else None
    return None


def without_runs_table(schema, tool: str, project: Path, migrations_dir: Optional[str] = None):
    """`schema` (a model.schema.Schema) less the tables `tool` keeps its runs in (runs_table's, and knex's
    lock beside it): the tool's, not the application's. The schema itself where it holds none."""
    from ..pg.quote import canonical_table

    table = runs_table(tool, project, migrations_dir)
    own = {canonical_table(t) for t in (table, f"{table}_lock" if tool == "knex" else None) if t}
    if not any(t.name in own for t in schema.tables):
        return schema
    return schema.model_copy(update={"tables": [t for t in schema.tables if t.name not in own]})


def read_runs(conn, tool: str, table: Optional[str] = None) -> Optional[list[str]]:
    """What `tool`'s table (`table`, schema-qualified, or TABLES's) holds (its key column), in a
    savepoint; None when the tool keeps no table Flux knows or it is not there (the tool never ran
    on this database)."""
    import psycopg
    from psycopg import sql

    entry = TABLES.get(tool)
    if entry is None:
        return None
    _, column, _ = entry
    schema, _, name = (table or entry[0]).rpartition(".")
    with conn.transaction():
        exists = conn.execute("SELECT to_regclass(%s)", [f'{schema or "public"}."{name}"']).fetchone()[0]
        if exists is None:
            return None
        ident = sql.Identifier(*([schema, name] if schema else [name]))
        # the tool's own reading of its rows, else (a table of an older shape) its key column alone
        for query in [q for q in (_RUNS_QUERY.get(tool),) if q] + ["SELECT {0} FROM {1}"]:
            try:
                with conn.transaction():
                    return [str(r[0]) for r in conn.execute(
                        sql.SQL(query).format(sql.Identifier(column), ident)).fetchall()]
            except psycopg.errors.UndefinedColumn:
                continue
        return None


# Where a row of the table does not mean the file ran: goose before v3 recorded a rollback as a
# row of its own with is_applied false; the latest row of a version (its highest id) says.
_RUNS_QUERY = {
    "goose": "SELECT {0} FROM (SELECT DISTINCT ON (version_id) version_id, is_applied FROM {1} "
             "ORDER BY version_id, id DESC) AS latest WHERE is_applied",
}


def tool_blocked(conn, tool: str, table: Optional[str] = None) -> Optional[str]:
    """What the tool's own table says stops it running any migration, in a sentence: golang-migrate's
    dirty version (a migration failed part-way; it runs nothing until `migrate force`), Flyway's failed
    row (it migrates nothing until `flyway repair`); None where nothing does, or it is not known."""
    import psycopg
    from psycopg import sql

    if tool not in ("golang-migrate", "flyway"):
        return None
    schema, _, name = (table or TABLES[tool][0]).rpartition(".")
    ident = sql.Identifier(*([schema, name] if schema else [name]))
    query = {"golang-migrate": "SELECT version::text FROM {} WHERE dirty",
             "flyway": "SELECT coalesce(version, script) FROM {} WHERE NOT success ORDER BY installed_rank"}[tool]
    try:
        with conn.transaction():
            if conn.execute("SELECT to_regclass(%s)", [f'{schema or "public"}."{name}"']).fetchone()[0] is None:
                return None
            rows = [str(r[0]) for r in conn.execute(sql.SQL(query).format(ident)).fetchall()]
    except psycopg.errors.UndefinedColumn:
        return None
    if not rows:
        return None
    if tool == "golang-migrate":
        return (f"golang-migrate's {name} marks version {rows[0]} dirty: that migration failed part-way, and "
                "golang-migrate runs none until it is put right by hand and `migrate force <version>` says where "
                f"the database stands ({rows[0]} if it is done, the version before it if it is undone)")
    return (f"Flyway's {name} records a failed migration ({', '.join(rows)}): Flyway migrates nothing until it is "
            "put right by hand and `flyway repair` removes the failed row")


def is_recorded(path: Path, tool: str, runs: list[str]) -> bool:
    """Does the table's content (read_runs) say the file at `path` ran?"""
    kind = TABLES[tool][2]
    return _applied(path, kind, _key(path, kind), runs)


def _key(path: Path, kind: str) -> str:
    if kind in ("number", "version_at_least"):
        digits = re.match(r"\D*(\d+)", path.name)
        return digits.group(1) if digits else path.stem
    if kind == "stem":
        return path.name.split(".")[0]
    if kind == "folder":
        return path.parent.name
    if kind == "sha256":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return path.name


def _applied(path: Path, kind: str, key: str, values: list[str]) -> bool:
    if kind == "version_at_least":
        return any(v.isdigit() and int(v) >= int(key) for v in values if key.isdigit())
    if kind == "number":
        return any(v.lstrip("0") == key.lstrip("0") for v in values)
    if kind == "revision":
        return _alembic_applied(path, values)
    return key in values


def _alembic_applied(path: Path, heads: list[str]) -> bool:
    """Alembic keeps the heads it reached: the file ran when its revision is one of them or below one."""
    import ast

    from ..write.tools._py import module_assignments, parse_file
    from ..write.tools.alembic import _strings, read_revisions

    revisions = read_revisions(path.parent)  # revision -> its down_revisions
    own = _strings(module_assignments(parse_file(path, "alembic"), {"revision"}).get("revision", ast.Constant(None)))
    mine = own[0] if own else None
    seen, todo = set(), list(heads)
    while todo:
        rev = todo.pop()
        if rev == mine:
            return True
        if rev not in seen:
            seen.add(rev)
            todo.extend(revisions.get(rev, []))
    return False
