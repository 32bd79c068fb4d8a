"""Every migration file format Flux reads: which part of a file runs on the way up and
which on the way down (the order in which each tool runs a folder's files: migration_order.py).

validate (lint/engine.py) and replay (schema/replay/engine.py) both read files
through this module, so a file means the same thing to both. The formats:

- dbmate and plain sql: `-- migrate:up` / `-- migrate:down` in one file;
  `transaction:false` after the up marker takes it out of dbmate's transaction,
  and dbmate sends each section as one query. Markers follow dbmate's own rule
  (`--`, optional space, `migrate:up`, case as written).
- goose: `-- +goose Up` / `-- +goose Down` (any case), `-- +goose NO TRANSACTION`.
- sql-migrate: `-- +migrate Up` / `-- +migrate Down`, as often as the file likes (each turns
  the lines after it); `notransaction` after Up takes the file out of its transaction.
- golang-migrate: `<version>_<name>.up.sql`, its down in the `.down.sql` beside it;
  each file goes to PostgreSQL as one query.
- prisma: `<stamp>_<name>/migration.sql`, sent as one query; a `down.sql` beside it (Prisma's
  documented down migration, which Flux writes) undoes it.
- diesel: `<version>_<name>/up.sql`, its down in the `down.sql` beside it; run in a
  transaction as one query unless the folder's metadata.toml says `run_in_transaction = false`.
- drizzle: `<out>/NNNN_name.sql` beside `<out>/meta/_journal.json`; the migrator runs all
  pending files in one transaction.
- flyway: `V<version>__<desc>.sql`, run in version order (V10 after V9), each in a
  transaction unless `V<version>__<desc>.sql.conf` says `executeInTransaction=false`; the
  `U<version>__<desc>.sql` of the same version undoes it. On an empty database the newest
  baseline `B<version>__<desc>.sql` runs instead of the V-files up to its version, and the
  repeatable `R__<desc>.sql` files run after the V-files (migration_order.py); B- and R-files
  run as V-files do. All are read with their placeholders (`${name}`) replaced, as Flyway runs
  them (flyway_config.py).
- sqitch: `deploy/<change>.sql` in sqitch.plan order, as psql runs it (no transaction but
  its own); `revert/<change>.sql` undoes it.
- anything else: the whole file runs on the way up.

A file that only ever runs on the way down (`.down.sql`, a flyway U-file, a sqitch
revert or verify script) has no up SQL.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Optional, Union

from . import flyway_config
from .flyway_statements import runs_outside_transaction
from .marked_sections import marked_sections, marker
from .psql_script import without_psql_commands
from .sections import Sections
from .drizzle_runs import in_journal, journal_path

# File names, not SQL.
FLYWAY_NAME = re.compile(r"([VUB])(\d+(?:[._]\d+)*)__.*\.sql$")  # versioned, undo, baseline
FLYWAY_REPEATABLE = re.compile(r"R__(.+)\.sql$")


def flyway_runs_up(name: str) -> bool:
    """Is `name` a Flyway migration that runs on the way up (a V-, B- or R-file), each in a
    transaction unless its .conf says otherwise?"""
    flyway = FLYWAY_NAME.match(name)
    return flyway.group(1) != "U" if flyway else FLYWAY_REPEATABLE.match(name) is not None


# -- one file ------------------------------------------------------------------


def read_sections(path: Path, text: str) -> Sections:
    """The parts of the migration file at `path` whose text is `text`; the down part
    of formats that keep it in a file of its own is read from beside it."""
    path = path if isinstance(path, Path) else Path(path)
    text = _rendered(path, text)
    if is_down_file(path):
        return Sections("", 0, text, False)
    found = marked_sections(text)
    if found is not None:
        return found
    if path.name.endswith(".up.sql"):
        return Sections(text, 0, _read_or_empty(Path(down_of_up(os.fspath(path)))), False, one_query=True)
    if flyway_runs_up(path.name):
        # Flyway runs each migration in a transaction on PostgreSQL unless its .conf says otherwise or
        # it holds a statement Flyway runs outside one (flyway_statements.py); a V-file's U-file undoes it.
        undo_file = _flyway_undo(path)
        undo = _rendered(path, _read_or_empty(undo_file)) if undo_file is not None else None
        outside, mixed = runs_outside_transaction(text)
        told = _flyway_in_transaction(path)  # (a .conf saying either way lets Flyway run a mix, as told)
        return Sections(text, 0, undo, told if told is not None else not outside,
                        mixed_refused=mixed and told is None
                        and not flyway_config.settings(os.path.abspath(path.parent)).mixed)
    place = sqitch_place(path.parent)
    if place is not None and place[1] == "deploy":
        # sqitch hands the script to psql as it is: a transaction is the script's own BEGIN/COMMIT.
        revert = Path(place[0], "revert", place[2], path.name)
        return Sections(text, 0, _rendered(revert, _read_or_empty(revert)), False)
    if path.name == "migration.sql":
        # Prisma sends migration.sql as one query: PostgreSQL runs it as one implicit transaction.
        down = path.with_name(_DOWN)
        return Sections(text, 0, _read_or_empty(down) if down.is_file() else None, False, one_query=True)
    if path.name == _DIESEL_UP:
        # diesel runs up.sql with batch_execute (one query), in a transaction unless told otherwise.
        return Sections(text, 0, _read_or_empty(path.with_name(_DOWN)), not _diesel_no_transaction(path),
                        one_query=True)
    if in_journal(path):
        # drizzle's migrator runs every pending migration inside one transaction (a file outside
        # its journal is run by hand, as Flux's manual steps are).
        return Sections(text, 0, None, True)
    return Sections(text, 0, None, False)


def side_files(path: Union[str, Path]) -> list[str]:
    """The other files read_sections may read for `path` (its separate down file, Flyway's undo
    file and .conf, sqitch's revert script and plan, drizzle's journal), whether or not they
    exist: what a cache of a file's findings must also key on. Strings: a warm `flux validate`
    asks this of every file of a history, where Path arithmetic costs more than the rest."""
    folder, name = os.path.split(os.fspath(path))
    if is_down_name(name) or sqitch_folder(folder, ("revert", "verify")):
        return []
    if name.endswith(".up.sql"):
        same = os.path.join(folder, name[: -len(".up.sql")] + ".down.sql")
        down = down_of_up(os.fspath(path))
        return [same] if down == same else [same, down]
    if name == "migration.sql":
        return [os.path.join(folder, _DOWN)]
    if name == _DIESEL_UP:
        return [os.path.join(folder, _DOWN), os.path.join(folder, "metadata.toml")]
    if flyway_runs_up(name):
        undo_file = _flyway_undo(Path(path))
        undo = [os.fspath(undo_file)] if undo_file is not None else []
        return [*undo, os.path.join(folder, name + ".conf"), *flyway_config.config_paths(folder or ".")]
    place = sqitch_place(folder)
    if place is not None:  # (a deploy script: revert and verify ones are down files, above)
        return [os.path.join(place[0], "revert", place[2], name), os.path.join(place[0], "sqitch.plan")]
    return [journal_path(folder)]


def down_of_up(up: str) -> str:
    """The down file of golang-migrate's `<version>_<name>.up.sql`: the `.down.sql` of the same name,
    else of the same version (golang-migrate pairs them by version: ente's `30_add_magic_metadata.up.sql`
    and `30_drop_magic_metadata.down.sql`); the first where neither exists."""
    folder, name = os.path.split(up)
    same = os.path.join(folder, name[: -len(".up.sql")] + ".down.sql")
    version, sep, _ = name.partition("_")
    if os.path.exists(same) or not (sep and version.isdigit()):
        return same
    downs = [n for n in _listing(folder or ".") if n.endswith(".down.sql") and n.partition("_")[0] == version]
    return os.path.join(folder, min(downs)) if downs else same


_LISTINGS: dict[str, tuple[int, list[str]]] = {}


def _listing(folder: str) -> list[str]:
    """The names in `folder`, listed again only when it changed (its mtime): asked for each up file
    of a folder whose downs are named otherwise, or that has none."""
    try:
        stamp = os.stat(folder).st_mtime_ns
        kept = _LISTINGS.get(folder)
        if kept is None or kept[0] != stamp:
            kept = _LISTINGS[folder] = (stamp, os.listdir(folder))
        return kept[1]
    except OSError:
        return []


def has_down_sql(path: Path) -> bool:
    """Does this migration file (or the down file beside it) hold any down SQL?"""
    try:
        return read_sections(path, Path(path).read_text(encoding="utf-8")).has_down_sql()
    except (OSError, UnicodeDecodeError):
        return False


def up_section(path: Union[str, Path], text: str) -> tuple[int, str]:
    """(the line the up SQL starts on, the up SQL), reading no other file than the configuration
    a Flyway file's placeholders take their values from."""
    if is_down_file(path):
        return 1, ""
    text = _rendered(path, text)
    found = marked_sections(text)
    return (found.up_line + 1, found.up) if found is not None else (1, text)


def up_sql_of(path: Union[str, Path], text: str) -> str:
    """The part of a migration file that runs on the way up."""
    return up_section(path, text)[1]


def is_down_file(path: Union[str, Path]) -> bool:
    """A file that only runs on the way down (or, for sqitch's verify scripts, never as a migration)."""
    folder, name = _split(path)
    return is_down_name(name) or sqitch_folder(folder, ("revert", "verify"))


def _split(path: Union[str, Path]) -> tuple[str, str]:
    """(path.parent, path.name) as text, a Path's without making others: asked of every file judged."""
    text = os.fspath(path if isinstance(path, Path) else Path(path))  # a Path's text is normalised
    folder, name = os.path.split(text)
    return folder or ".", name


def is_down_name(name: str) -> bool:
    """A file that by its name only runs on the way down: `.down.sql`, a Flyway U-file, `down.sql`."""
    flyway = FLYWAY_NAME.match(name)
    return name.endswith(".down.sql") or name == _DOWN or (flyway is not None and flyway.group(1) == "U")


# The files of a folder that holds one migration (Prisma's `<stamp>_<name>/`, diesel's): its down
# file, diesel's up file.
_DOWN, _DIESEL_UP = "down.sql", "up.sql"
ONE_MIGRATION_FILES = ("migration.sql", _DIESEL_UP)


def history_folder(path: Union[str, Path]) -> str:
    """The folder whose history a migration file belongs to: its own, or for a migration in a folder
    of its own (Prisma's `<stamp>_<name>/migration.sql`, diesel's `<version>_<name>/up.sql`) the
    folder above, which migration_files lists it in (a file of either name in a folder not named
    for a version stays in its own)."""
    folder, name = os.path.split(os.fspath(path))
    if name in ONE_MIGRATION_FILES and os.path.basename(folder)[:1].isdigit():
        return os.path.dirname(folder)
    return folder


def unwritten_format(folder: Path) -> Optional[str]:
    """What the migrations in `folder` are written as, when it is a format Flux reads but writes for
    no tool: diesel's folder per migration, rubenv/sql-migrate's markers, plain files with no
    sections at all (sqlx's, psql's: dbmate's format there would run its down section too; its
    newest files are read); None for any other folder."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return None
    if any(e.is_dir() and e.name[:1].isdigit() and os.path.isfile(os.path.join(e.path, _DIESEL_UP)) for e in entries):
        return "diesel's <version>_<name>/up.sql and down.sql"
    newest = [e for e in entries if e.name.endswith(".sql") and e.is_file()][-3:]
    styles = [{m[0] for line in _read_or_empty(Path(e.path)).split("\n") if (m := marker(line))} for e in newest]
    if any("sql-migrate" in found for found in styles):
        return "rubenv/sql-migrate's files (-- +migrate Up / Down)"
    if styles and not any(styles):
        return ("plain SQL files, each run whole (no -- migrate:up / -- migrate:down sections, as sqlx and psql run "
                "them: a down section there would run too)")
    return None


def _diesel_no_transaction(path: Path) -> bool:
    """The migration's metadata.toml says `run_in_transaction = false`."""
    meta = path.with_name("metadata.toml")
    try:
        if not meta.is_file():
            return False
        import tomllib  # only for a diesel folder that has one

        return tomllib.loads(meta.read_text(encoding="utf-8")).get("run_in_transaction") is False
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def _rendered(path: Union[str, Path], text: str) -> str:
    """A Flyway migration's text as Flyway runs it: its placeholders replaced; a sqitch script's as
    psql hands it to the server (BeeeOn's start `\\set ON_ERROR_STOP on`); any other file's as it is."""
    folder, name = _split(path)
    if FLYWAY_NAME.match(name) or FLYWAY_REPEATABLE.match(name):
        return flyway_config.render(text, folder)
    return without_psql_commands(text) if "\\" in text and sqitch_place(folder) is not None else text


def _read_or_empty(path: Path) -> str:
    """A separate down file's text; "" when it is missing (a down the folder's other files have)."""
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else ""
    except (OSError, UnicodeDecodeError):
        return ""


def _flyway_in_transaction(path: Path) -> Optional[bool]:
    """What the sibling `<file>.conf` (a properties file) sets executeInTransaction to; None: nothing."""
    conf = path.with_name(path.name + ".conf")
    try:
        lines = conf.read_text(encoding="utf-8").splitlines() if conf.is_file() else []
    except (OSError, UnicodeDecodeError):
        return None
    settings = dict(line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    told = settings.get("executeInTransaction", "").strip().lower()
    return {"false": False, "true": True}.get(told)


def _flyway_undo(path: Path) -> Optional[Path]:
    """The U-file of the same version beside a V-file (its description may differ); None for a B- or
    R-file, which no U-file undoes."""
    flyway = FLYWAY_NAME.match(path.name)
    if flyway is None or flyway.group(1) != "V":
        return None
    name = _undo_files(os.fspath(path.parent) or ".").get(version_key(flyway.group(2)))
    return path.with_name(name if name is not None else "U" + path.name[1:])


_UNDO_FILES: dict[str, tuple[tuple[int, int], dict]] = {}  # folder -> (its times, its U-files by version)
_RACY_NS = 3_000_000_000


def _undo_files(folder: str) -> dict[tuple[int, ...], str]:
    """A folder's U-files by version (the first by name where two share one), listed once while the
    folder is unchanged: every V-file asks, and listing the folder for each was quadratic (0.25 s on
    a folder of 295). Its times change with its entries; a folder changed within 3 s of now is
    listed again (a coarse clock could give a second change the same times)."""
    try:
        st = os.stat(folder)
    except OSError:
        return {}
    stamp = (st.st_mtime_ns, st.st_ctime_ns)
    known = _UNDO_FILES.get(folder)
    if known is not None and known[0] == stamp:
        return known[1]
    found: dict[tuple[int, ...], str] = {}
    for name in sorted(os.listdir(folder)):
        m = FLYWAY_NAME.match(name) if name.startswith("U") else None
        if m:
            found.setdefault(version_key(m.group(2)), name)
    if time.time_ns() - max(stamp) > _RACY_NS:
        _UNDO_FILES[folder] = (stamp, found)
    return found


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.split(r"[._]", version))


def sqitch_folder(folder: Union[str, Path], kinds: tuple[str, ...]) -> bool:
    """Is `folder` in one of sqitch's `kinds` of folder (deploy, revert, verify) beside a sqitch.plan?"""
    place = sqitch_place(folder)
    return place is not None and place[1] in kinds


_SQITCH_KINDS = ("deploy", "revert", "verify")
_SQITCH_DEPTH = 6  # a change's name holds up to this many folders (`app/orders`: deploy/app/orders.sql)


def sqitch_place(folder: Union[str, Path]) -> Optional[tuple[str, str, str]]:
    """Where `folder` is in a sqitch project: the folder of its sqitch.plan, which of its script folders
    (deploy, revert, verify) holds `folder`, and the path below that ("" or `app` for a change named
    `app/orders`); None outside one."""
    here = os.fspath(folder).rstrip(os.sep) or os.sep
    below: list[str] = []
    for _ in range(_SQITCH_DEPTH):
        above, base = os.path.split(here)
        if not base:
            return None
        if base in _SQITCH_KINDS and os.path.isfile(os.path.join(above, "sqitch.plan")):
            return above, base, os.path.join(*reversed(below)) if below else ""
        below.append(base)
        here = above
    return None
