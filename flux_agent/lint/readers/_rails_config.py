"""What a Rails app's own configuration says about how its migrations run, read as text (no Ruby
run): strong_migrations' settings (config/initializers/strong_migrations.rb: the lock and statement
timeouts it sets before each migration, `start_after`, before which it checks nothing) and the
session variables database.yml gives each connection (`variables: lock_timeout: 5s`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

_UNITS = {"second": 1, "seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400,
          "days": 86400}
_KNOWN: dict[str, tuple[tuple, "RailsConfig"]] = {}


@dataclass(frozen=True)
class RailsConfig:
    settings: tuple[tuple[str, str, str], ...] = ()  # (setting, value as SQL, where it is set), as sent in order
    start_after: Optional[int] = None  # strong_migrations checks only migrations after this version
    initializer: str = ""  # where start_after is set


def app_root(migration: Path) -> Optional[Path]:
    """The Rails app a migration file belongs to (db/migrate/x.rb's app): the folder with config/."""
    for up in migration.resolve().parents[1:4]:
        if (up / "config").is_dir() and (up / "db").is_dir():
            return up
    return None


def rails_config(app: Optional[Path]) -> RailsConfig:
    """The app's configuration as it bears on migrations, read again when a file of it changed."""
    if app is None:
        return RailsConfig()
    initializer = app / "config" / "initializers" / "strong_migrations.rb"
    database = app / "config" / "database.yml"
    key = tuple(_stat(p) for p in (initializer, database))
    held = _KNOWN.get(str(app))
    if held is not None and held[0] == key:
        return held[1]
    settings: dict[str, tuple[str, str]] = {}
    settings.update(_database_variables(database))
    strong, start_after = _strong_migrations(initializer)
    settings.update(strong)  # set by strong_migrations when each migration starts: after the connection's
    config = RailsConfig(tuple((name, value, where) for name, (value, where) in settings.items()), start_after,
                         "config/initializers/strong_migrations.rb")
    _KNOWN[str(app)] = (key, config)
    return config


def _stat(path: Path) -> tuple:
    try:
        st = path.stat()
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return ()


def _strong_migrations(path: Path) -> tuple[dict[str, tuple[str, str]], Optional[int]]:
    """`StrongMigrations.lock_timeout = 10.seconds` and the like: the SET strong_migrations sends (a
    number of seconds as whole milliseconds, rounded up, a string as it is), and start_after."""
    from ...errors import FluxInputError
    from ...pg.quote import literal
    from ...schema.readers._ruby import tokens

    try:
        toks = tokens(path.read_text(encoding="utf-8"), lenient=True)
    except (OSError, UnicodeDecodeError, FluxInputError):
        return {}, None
    out: dict[str, tuple[str, str]] = {}
    start_after = None
    where = "config/initializers/strong_migrations.rb"
    for k in range(len(toks) - 4):
        (k1, v1, _, _), (_, v2, _, _), (k3, v3, _, _), (_, v4, _, _), (k5, v5, _, _) = toks[k:k + 5]
        if (k1, v1, v2, k3, v4) != ("name", "StrongMigrations", ".", "name", "="):
            continue
        if v3 == "start_after" and k5 == "num":
            start_after = int(v5.replace("_", ""))
        elif v3 in ("lock_timeout", "statement_timeout"):
            unit = toks[k + 6][1] if k + 6 < len(toks) and toks[k + 5][1] == "." else None
            if k5 == "num" and (unit is None or unit in _UNITS):
                seconds = float(v5.replace("_", "")) * _UNITS.get(unit or "second", 1)
                out[v3] = (str(math.ceil(seconds * 1000)), where)
            elif k5 == "str":
                out[v3] = (literal(v5), where)
    return out, start_after


def _database_variables(path: Path) -> dict[str, tuple[str, str]]:
    """database.yml's `variables:` lock_timeout and statement_timeout for production (else the default
    the environments share), each as `SET SESSION ... TO '...'` gives it. A file YAML cannot read
    (ERB outside values) says nothing."""
    import yaml

    from ...pg.quote import literal

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict):
        return {}
    env = data.get("production") if isinstance(data.get("production"), dict) else data.get("default")
    if isinstance(env, dict) and "variables" not in env and isinstance(env.get("primary"), dict):
        env = env["primary"]  # multiple databases: the primary one's
    variables = env.get("variables") if isinstance(env, dict) else None
    if not isinstance(variables, dict):
        return {}
    return {name: (literal(str(variables[name])), "config/database.yml")
            for name in ("lock_timeout", "statement_timeout") if variables.get(name) not in (None, "")}
