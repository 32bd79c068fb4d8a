"""drizzle.config as drizzle-kit reads it: which of a project's configs (the one whose `out` is the
migrations folder), the folder its paths are read from, its `schema` entries and the table
`drizzle-kit migrate` records its runs in (`migrations: { table, schema }`)."""

from __future__ import annotations

from pathlib import Path

from .scan import Scan, hidden
from .ts_tokens import TsError, match_close, str_value, tokenize_ts

__all__ = ["CONFIGS", "config_file", "migrations_table", "package_of", "schema_entries", "setting"]

CONFIGS = tuple(f"drizzle.config.{e}" for e in ("ts", "mts", "cts", "js", "mjs", "cjs"))
DEFAULT_TABLE = ("drizzle", "__drizzle_migrations")


def _tokens(cfg: Path):
    try:
        return tokenize_ts(cfg.read_text(encoding="utf-8"))
    except (TsError, OSError, UnicodeDecodeError):
        return None


def _value(toks, key: str, start: int = 0, stop: int | None = None):
    """The string after `key:` between token indexes start and stop; None where not a string."""
    stop = len(toks) - 2 if stop is None else stop
    return next((str_value(toks[i + 2]) for i in range(start, stop)
                 if toks[i].text == key and toks[i + 1].text == ":"), None)


def setting(cfg: Path, key: str) -> str | None:
    """A config's string setting `key:` (`out`, `dialect`); None where it has none or is not a string."""
    toks = _tokens(cfg)
    return _value(toks, key) if toks else None


def schema_entries(toks, name: str) -> tuple[list[str] | None, str]:
    """The `schema:` value of the config's tokens: its strings, or None and why."""
    nested = {j for i, t in enumerate(toks[:-2]) if t.text == "migrations" and toks[i + 1].text == ":"
              and toks[i + 2].text == "{" for j in range(i + 2, match_close(toks, i + 2))}
    for i, t in enumerate(toks[:-2]):
        if t.text == "schema" and toks[i + 1].text == ":" and i not in nested:  # not migrations.schema
            if toks[i + 2].text == "[":
                items = toks[i + 3:match_close(toks, i + 2)]
                values = [str_value(x) for x in items if x.text != ","]
            else:
                values = [str_value(toks[i + 2])]
            if not values or any(v is None for v in values):
                return None, f"{name} names its schema by an expression; edit the pgTable by hand"
            return values, ""
    return None, f"{name} names no schema file"


def _out(cfg: Path, project: Path) -> Path | None:
    """The migrations folder a config names (`out:`), from the folder drizzle-kit runs in."""
    if _tokens(cfg) is None:
        return None
    out = setting(cfg, "out") or "drizzle"
    return (package_of(cfg, project) / out).resolve()


def package_of(cfg: Path, project: Path) -> Path:
    """drizzle-kit reads a config's paths from the folder it runs in: its package's, or its own."""
    return next((d for d in [cfg.parent, *cfg.parent.parents] if (d / "package.json").is_file()
                 and d.is_relative_to(project)), cfg.parent)


def config_file(project: Path, near: Path | None = None) -> Path | None:
    """The project's drizzle.config: the one whose `out` is the migrations folder (`near`) where
    several are, else the nearest (a monorepo's may sit in apps/web/server/db/: dokploy's)."""
    found = [project / f for f in Scan(project).named(*CONFIGS) if not hidden(f)]
    if near is not None and len(found) > 1:
        target = (project / near).resolve()
        return next((c for c in found if _out(c, project) == target), found[0])
    return found[0] if found else None


def migrations_table(project: Path, near: Path | None = None) -> tuple[str, str]:
    """(schema, table) where `drizzle-kit migrate` records each migration it ran: drizzle's
    default, or what the config's `migrations: { table, schema }` says (dokploy: public.migrations)."""
    cfg = config_file(Path(project).resolve(), near)
    toks = _tokens(cfg) if cfg is not None else None
    for i, t in enumerate(toks[:-2] if toks else []):
        if t.text == "migrations" and toks[i + 1].text == ":" and toks[i + 2].text == "{":
            end = match_close(toks, i + 2)
            return (_value(toks, "schema", i + 3, end) or DEFAULT_TABLE[0],
                    _value(toks, "table", i + 3, end) or DEFAULT_TABLE[1])
    return DEFAULT_TABLE
