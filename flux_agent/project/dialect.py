"""Which database a project's migrations are written for, as its tool's own config says (Prisma's
migration_lock.toml or datasource, drizzle.config's `dialect`): Flux reads PostgreSQL's SQL only,
and says so in one line rather than judging MySQL's backticks as syntax errors."""

from __future__ import annotations

import tomllib
from pathlib import PurePosixPath

from ..errors import FluxInputError
from .drizzle_config import CONFIGS, setting
from .scan import Scan, hidden

__all__ = ["POSTGRES", "dialect_of", "label", "not_postgres"]

POSTGRES = frozenset({"postgresql", "postgres", "cockroachdb"})  # cockroachdb: Prisma's PostgreSQL dialect
_LABELS = {"mysql": "MySQL", "sqlite": "SQLite", "sqlserver": "SQL Server", "mongodb": "MongoDB",
           "singlestore": "SingleStore", "turso": "SQLite (Turso)", "gel": "Gel"}


def label(dialect: str) -> str:
    return _LABELS.get(dialect, dialect)


def _prisma(scan: Scan, migrations_dir: str) -> tuple[str, str] | None:
    lock = PurePosixPath(migrations_dir) / "migration_lock.toml"  # what `prisma migrate` checks itself
    if lock in scan.names:
        try:
            provider = tomllib.loads(scan.read(lock)).get("provider")
        except tomllib.TOMLDecodeError:
            provider = None
        if isinstance(provider, str):
            return provider, f'{lock}: provider = "{provider}"'
    from ..schema.readers._prisma_parse import parse_prisma

    near = PurePosixPath(migrations_dir).parent
    for f in sorted(scan.named("schema.prisma"), key=lambda f: f.parent != near):
        try:
            blocks = parse_prisma(scan.read(f), str(f))
        except FluxInputError:
            continue
        ds = next((b for b in blocks if b.kind == "datasource"), None)
        provider = ds.settings.get("provider") if ds else None
        if isinstance(provider, str):
            return provider, f'{f}: datasource provider = "{provider}"'
    return None


def _drizzle(scan: Scan) -> tuple[str, str] | None:
    for f in (f for f in scan.named(*CONFIGS) if not hidden(f)):
        dialect = setting(scan.root / f, "dialect")
        if dialect:
            return dialect, f'{f}: dialect: "{dialect}"'
    return None


def dialect_of(scan: Scan, tool: str, migrations_dir: str) -> tuple[str, str]:
    """(the dialect, where it was read); ("postgresql", "") where nothing says."""
    said = _prisma(scan, migrations_dir) if tool == "prisma" else _drizzle(scan) if tool == "drizzle" else None
    if said is None:
        return "postgresql", ""
    return ("postgresql" if said[0] in POSTGRES else said[0]), said[1]


def not_postgres(dialect: str, evidence: list[str]) -> str | None:
    """The one line refusing a project whose migrations are another database's; None for PostgreSQL."""
    if dialect == "postgresql":
        return None
    where = next((e.removeprefix("dialect: ") for e in evidence if e.startswith("dialect: ")), "")
    return (f"the project's migrations are for {label(dialect)}" + (f" ({where})" if where else "")
            + "; Flux reads and writes PostgreSQL's only")
