"""Rails migrations (db/migrate/*.rb) read statically into the SQL ActiveRecord's PostgreSQL
adapter sends: Ruby is never run. The file is scanned with the Ruby-subset scanner of the
schema.rb reader (schema/readers/_ruby.py), leniently: every statement of `change`, `up` and
`down` that is a call of the migration DSL with literal arguments becomes SQL, each piece on the
line of its call; everything else (conditions, loops, variables, helper methods, model code such
as `User.update_all`, string interpolation, DSL methods this reader does not know) is an Unread
at its line, so `flux validate` reports it as not analysed instead of skipping it.

Read as Rails runs them:
- `disable_ddl_transaction!` makes the migration non-transactional; otherwise Rails wraps it in
  a transaction.
- `def up` / `def self.up` is the up part, `def down` the down part (a `down` that only raises
  ActiveRecord::IrreversibleMigration, or no `down` at all next to an `up`, is an empty down).
- `def change` is the up part, and its down part is what Rails' command recorder inverts:
  `reversible { |dir| dir.up {...}; dir.down {...} }` gives each direction its own SQL,
  `up_only {...}` runs only up, and a call Rails cannot invert (`execute`, `change_column`,
  `remove_column` without a type, `change_column_default` without from:/to:, ...) makes the
  whole down empty, as Rails then raises IrreversibleMigration on rollback; missing-rollback
  judges that as for SQL.
- `safety_assured { ... }` (strong_migrations) is the developer asserting the statements inside
  are safe to deploy: each of them is preceded by `-- flux-ignore <rules>: ...` naming the rules
  that check what strong_migrations checks (locks, rewrites, renames, drops, constraints and
  backfills: _ASSURED). Rules about correctness stay on: a concurrent index inside a transaction
  still fails, an unknown table is still unknown, a missing rollback is still missing.
- Types are the adapter's (string -> character varying, datetime -> timestamp(6) from
  Migration[7.0] on, decimal precision/scale -> numeric(p,s), ...), primary keys `bigserial
  primary key` (serial before Migration[5.1]), generated names as Rails makes them
  (index_<table>_on_<cols>, fk_rails_<hash>, chk_rails_<hash>). Identifiers are quoted with
  pg/quote.py.

This module walks the migration's methods; the lenient scan is _rails_scan.py, each DSL call's
SQL and its undo _rails_dsl.py, the adapter's SQL pieces (types, names, clauses) _rails_sql.py.
"""


from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

from ...errors import FluxInputError
from ...pg.split import SqlSyntaxError, split_statements
from ...schema.readers._ruby import Call, Num, tokens
from . import Irreversible, Piece, Reader, ReadMigration, Unread
from ._rails_config import RailsConfig, app_root, rails_config
from ._rails_dsl import Dsl
from ._rails_scenic import CALLS as SCENIC_CALLS
from ._rails_scan import Lenient, Opaque
from ._rails_sql import Unreadable, require_static

__all__ = ["READER", "read_rails_migration"]

# Rules for what strong_migrations checks: `safety_assured` silences them for its statements.
_ASSURED = (
    "adding-field-with-default", "adding-foreign-key-constraint", "adding-not-nullable-field", "adding-required-field",
    "ban-drop-column", "ban-drop-table", "ban-drop-index", "ban-drop-constraint", "blocking-scan",
    "changing-column-type", "constraint-missing-not-valid", "dangerous-statement", "destructive-outside-contract",
    "disallowed-unique-constraint", "expand-contract-required", "renaming-column", "renaming-table",
    "renaming-object", "require-concurrent-index-creation", "require-concurrent-index-deletion",
    "set-not-null-without-check", "unbatched-data-change",
)
_ASSURED_NOTE = f"-- flux-ignore {', '.join(_ASSURED)}: safety_assured in the migration (strong_migrations)"
_NO_SQL = {"say", "puts", "print", "p", "pp", "require", "require_relative"}  # methods that send no SQL
_METHODS = {"change", "up", "down", "self.up", "self.down"}


def _head(item) -> str:
    return item.name if isinstance(item, Call) else getattr(item, "head", "")


def _yielding(body: list, block: list) -> list:
    """A method's body with each `yield` (at any depth of its blocks) as the statements of `block`."""
    out: list = []
    for item in body:
        if isinstance(item, Call) and item.name == "yield" and not item.args and item.block is None:
            out.extend(block)
        elif isinstance(item, Call) and item.block is not None:
            out.append(replace(item, block=_yielding(item.block, block)))
        else:
            out.append(item)
    return out


def _normal_path(items: list) -> list:
    """A method's statements as they run when nothing fails: a method-level `rescue` clause runs only
    on an error (mastodon's CREATE INDEX CONCURRENTLY, then DROP INDEX in `rescue` to clean up a
    failed build, was judged as both running), an `ensure` clause always."""
    out, rescuing = [], False
    for item in items:
        head = _head(item)
        if head in ("rescue", "ensure", "else"):
            rescuing = head == "rescue"
            continue
        if not rescuing:
            out.append(item)
    return out


def _snippet(lines: list[str], line: int) -> str:
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return text if len(text) <= 80 else text[:77] + "..."


class _Migration:
    def __init__(self, text: str, config: RailsConfig = RailsConfig(), version: Optional[int] = None,
                 views: Optional[Path] = None):
        self.config, self.version, self.views = config, version, views
        self.lines = text.splitlines()
        self.transactional = True
        self.unread: list[Unread] = []
        self.helpers: dict[str, list] = {}  # the methods the migration defines besides its own: their bodies
        self.inlined: list[str] = []  # the helpers being read into a call of them (one inside another)
        self.models: set[str] = set()  # model classes the migration defines for itself, with no methods
        self.irreversible: Optional[Irreversible] = None  # the first call of `change` Rails cannot invert
        self.raises: Optional[Irreversible] = None  # the `raise` of the down method (IrreversibleMigration)
        self.down_unread = False  # Ruby in the down part not read: what it undoes is not known
        self.inverse_unread = False  # a call of `change` not read (or part of it): its inverse is not known
        self.dsl = Dsl(4.2, self.miss, views)  # until the class names its Rails version
        self.class_line = 1

    def miss(self, line: int, why: str, rows_only: bool = False) -> None:
        self.unread.append(Unread(line=line, what=f"`{_snippet(self.lines, line)}`: {why}", rows_only=rows_only))

    def rows_only(self, item) -> bool:
        """Is `item` one line of a model the migration defines for itself (ActiveRecord's own methods
        only: it defines none), which changes rows, never tables (a data migration's
        `Account.where(uri: '').in_batches.update_all(uri: nil)`)? Not where it reaches the connection
        or opens a block (Ruby that may run anything)."""
        if isinstance(item, Call) and item.block is not None:
            return False
        text = _snippet(self.lines, item.line)
        return _head(item).split(".")[0] in self.models and not any(
            w in text for w in ("connection", "execute", " do", "{"))

    def down_miss(self, line: int, why: str) -> None:
        self.down_unread = True

    # -- the walk ------------------------------------------------------------

    def read(self, text: str) -> ReadMigration:
        items = Lenient(tokens(text, lenient=True)).block(None)
        bodies: dict[str, list] = {}
        found = False
        for item in items:
            if isinstance(item, Call) and item.name == "class" and len(item.args) > 1 \
                    and item.args[1].name.startswith("ActiveRecord::Migration"):
                found = True
                self.class_line = item.line
                index = item.args[1].index
                self.dsl = Dsl(float(index.text) if isinstance(index, Num) else 4.2, self.miss, self.views)
                self.class_body(item.block or [], bodies)
            elif isinstance(item, Call) and item.name in _NO_SQL:
                continue
            elif isinstance(item, Call) and item.name in ("class", "def"):
                continue  # a definition outside the migration runs nothing by itself
            else:
                self.miss(item.line, "Ruby outside the migration class is not run by Flux")
        if not found:
            self.unread.append(Unread(line=1, what="no `class ... < ActiveRecord::Migration` in the file"))
        up: list[Piece] = []
        down: Optional[list[Piece]] = []
        before = self.config.start_after is not None and self.version is not None \
            and self.version <= self.config.start_after
        # strong_migrations checks nothing before start_after: as if all of it were in safety_assured
        start = (f"-- flux-ignore {', '.join(_ASSURED)}: before StrongMigrations.start_after "
                 f"({self.config.initializer})") if before else None
        if "change" in bodies and not ({"up", "down"} & bodies.keys()):
            inverse: Optional[list[Piece]] = []
            self.walk(bodies["change"], "change", up, inverse_box := [inverse], start)
            down = list(reversed(inverse_box[0])) if inverse_box[0] is not None else []
        else:
            self.walk(bodies.get("up", []), "up", up, [None], start)
            down = []
            self.walk(bodies.get("down", []), "down", down, [None])
        if self.down_unread and not down:
            down = None  # Ruby there, and no SQL read of it: whether it undoes the up part is not known
        if up and self.config.settings:  # the SETs the connection and strong_migrations send before it
            up = [Piece(sql=f"-- {where}\nSET {name} TO {value}", line=self.class_line)
                  for name, value, where in self.config.settings] + up
        return ReadMigration(tool="rails", up=up, down=down, transactional=self.transactional, unread=self.unread,
                             down_unread=self.down_unread or self.inverse_unread, irreversible=None if down else
                             self.irreversible if "change" in bodies else self.raises)

    def class_body(self, items: list, bodies: dict[str, list]) -> None:
        for item in items:
            if isinstance(item, Call) and item.name == "disable_ddl_transaction!":
                self.transactional = False
            elif isinstance(item, Call) and item.name == "def":
                name = str(item.args[0])
                if name in _METHODS:
                    bodies[name.removeprefix("self.")] = _normal_path(item.block or [])
                else:
                    self.helpers[name.removeprefix("self.")] = _normal_path(item.block or [])
            elif isinstance(item, Call) and item.name == "class":  # a model class: it runs nothing by itself
                if len(item.args) > 1 and isinstance(item.args[0], Call) and isinstance(item.args[1], Call) \
                        and item.args[1].name in ("ApplicationRecord", "ActiveRecord::Base") \
                        and not any(isinstance(x, Call) and x.name == "def" for x in item.block or ()):
                    self.models.add(item.args[0].name)
            elif isinstance(item, Opaque) and _snippet(self.lines, item.line)[:1].isupper() \
                    and "=" in _snippet(self.lines, item.line):
                continue  # a constant: used (and reported) where the Ruby that reads it runs
            elif isinstance(item, Call) and item.name in _NO_SQL | {"private", "protected", "public"}:
                continue
            else:
                self.miss(item.line, "Ruby in the migration class that Flux does not run")

    def walk(self, items: list, mode: str, out: list[Piece], inverse: list, assured: Optional[str] = None) -> None:
        """Append the SQL of `items` to `out`; in a `change`, put what undoes them into inverse[0]
        (set to None once something cannot be undone). Ruby not read in a down part is no finding (the
        down part is not judged); it only makes the down part not known (down_unread)."""
        miss = self.miss if mode != "down" else self.down_miss
        for item in items:
            before = len(self.unread)
            if isinstance(item, (Opaque, Call)) and self.rows_only(item):
                if mode != "down":  # the down part's rows: not judged, and its tables are known
                    model = _head(item).split(".")[0]
                    self.miss(item.line, f"{model} is a model this migration defines: the rows it changes are not "
                                         "known until Ruby runs (no table changes)", rows_only=True)
                continue
            if isinstance(item, Opaque):
                miss(item.line, f"{item.head} is application code (a model or class): its SQL is not known until "
                          "Ruby runs" if item.head[:1].isupper() else
                          "Ruby logic (a condition, loop, assignment or expression) is not run by Flux")
                continue
            try:
                self.one(item, mode, out, inverse, assured)
            except Unreadable as exc:
                miss(item.line, str(exc))
            except (FluxInputError, SqlSyntaxError) as exc:
                miss(item.line, f"cannot be turned into SQL: {exc}")
            except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
                what = f"missing option {exc.args[0]}" if isinstance(exc, KeyError) else \
                    "a missing argument" if isinstance(exc, IndexError) else str(exc)
                miss(item.line, f"{item.name} with {what}: not read")
            # A call of `change` not read whole: what Rails inverts of it is not known (a table it creates is
            # dropped whole however its columns read).
            if mode == "change" and len(self.unread) > before and not (
                    isinstance(item, Call) and item.name in ("create_table", "create_join_table")):
                self.inverse_unread = True

    def one(self, c: Call, mode: str, out: list[Piece], inverse: list, assured: Optional[str]) -> None:
        name, block = c.name, c.block
        if name in ("reversible",) and block is not None:
            for sub in block:
                if isinstance(sub, Call) and sub.name.endswith((".up", ".down")) and sub.block is not None:
                    way = sub.name.rsplit(".", 1)[1]
                    if mode == "change" and way == "down":
                        undo: list[Piece] = []
                        self.walk(sub.block, "down", undo, [None], assured)
                        if inverse[0] is not None:
                            inverse[0].extend(reversed(undo))
                    elif way == ("down" if mode == "down" else "up"):
                        self.walk(sub.block, "up" if mode == "change" else mode, out, [None], assured)
                else:
                    self.walk([sub], mode, out, inverse, assured)
            return
        if name == "up_only" and block is not None:
            if mode != "down":
                self.walk(block, "up", out, [None], assured)
            return
        if name == "with_options" and block is not None and not c.args:
            # ActiveSupport's with_options: its options merged into each call of the block (mastodon's
            # `with_options if_exists: true do remove_index ... end`)
            require_static(c.kwargs)
            merged = [replace(x, kwargs={**c.kwargs, **x.kwargs}) if isinstance(x, Call) else x for x in block]
            self.walk(merged, mode, out, inverse, assured)
            return
        if name in ("safety_assured", "say_with_time", "transaction", "ActiveRecord::Base.transaction") \
                and block is not None:
            self.walk(block, mode, out, inverse, assured or (_ASSURED_NOTE if name == "safety_assured" else None))
            return
        if name in _NO_SQL or name in ("private", "protected", "public") or name.endswith(".reset_column_information"):
            return
        if name == "raise":
            if mode == "down":  # ActiveRecord::IrreversibleMigration: nothing is undone, and on purpose
                self.raises = self.raises or Irreversible(
                    line=c.line, what="its down method raises, so `db:rollback` stops with an error here",
                    hint="if the change cannot be undone on purpose, say so: # flux-ignore missing-rollback: "
                         "<why>; else write the down SQL")
                return
            raise Unreadable("raises an error when Ruby runs")
        if name[:1].isupper():
            raise Unreadable(f"{name.split('.')[0]} is application code (a model or class): its SQL is not known "
                              "until Ruby runs")
        if name in self.helpers:
            # A method of the migration called without arguments is read as its body, its `yield` as the
            # call's block (mastodon's reapplication_global_follow_recommendations_v1 do ... end)
            if c.args or c.kwargs or name in self.inlined:
                raise Unreadable(f"calls {name}, a method defined in the migration with arguments (or itself): "
                                 "Ruby Flux does not run")
            self.inlined.append(name)
            made, said = len(out), len(self.unread)
            try:
                self.walk(_yielding(self.helpers[name], block or []), mode, out, inverse, assured)
            finally:
                self.inlined.pop()
            added = self.unread[said:]
            if len(out) == made and added and not all(u.rows_only for u in added):
                # Nothing of it read: said once, at the call, not line by line (mastodon's settings migration:
                # fifteen lines of Ruby in the method it calls)
                del self.unread[said:]
                first, last = min(u.line for u in added), max(u.line for u in added)
                where = f"lines {first}-{last}" if last != first else f"line {first}"
                raise Unreadable(f"calls {name}, a method of the migration whose Ruby Flux does not run ({where})")
            return
        if block is not None and name not in ("create_table", "change_table", "create_join_table", "drop_table"):
            raise Unreadable(f"{name} with a block runs Ruby Flux does not run (a loop, or a method of the app)")
        require_static(c.args)
        if name not in SCENIC_CALLS:  # scenic_call reads a Scenic::Definition given as sql_definition itself
            require_static(c.kwargs)
        made = self.dsl.call(c)
        if made is None:
            raise Unreadable(f"{name} is not part of the migration DSL Flux reads")
        ups, undo = made
        for sql, line in ups:
            if assured:
                sql = self.assured(sql, assured)
            out.append(Piece(sql=sql, line=line))
        if mode == "change" and inverse[0] is not None:
            # The whole inverse is reversed at the end (the last call undone first): a call's own undo
            # goes in backwards so that its statements keep their order (a table made, then its indexes).
            inverse[0] = None if undo is None else inverse[0] + [Piece(sql=s, line=c.line) for s in reversed(undo)]
            if undo is None:
                self.irreversible = Irreversible(
                    line=c.line, what=f"Rails cannot invert {name} as written here in `change`, so `db:rollback` "
                                      "raises IrreversibleMigration",
                    hint="write `up` and `down` methods, or give the call what Rails needs to invert it "
                         "(remove_column's type, remove_index's columns)")

    @staticmethod
    def assured(sql: str, note: str) -> str:
        try:
            stmts = split_statements(sql)
        except SqlSyntaxError:
            return f"{note}\n{sql}"
        if len(stmts) <= 1:
            return f"{note}\n{sql}"
        return "\n".join(f"{note}\n{s.text.strip().rstrip(';')};" for s in stmts)


def read_rails_migration(path: Path, text: str, project: Optional[Path] = None) -> ReadMigration:
    """A Rails migration as the SQL its up and down parts send (see the module docstring)."""
    head, app = path.name.partition("_")[0], app_root(path)
    try:
        return _Migration(text, rails_config(app), int(head) if head.isdigit() else None,
                          app / "db" / "views" if app is not None else None).read(text)
    except FluxInputError as exc:  # the lenient scan reads any text; kept so that one file never stops a run
        return ReadMigration(tool="rails", down=None, unread=[Unread(line=1, what=f"the file was not read: {exc}")])


def _claims(text: str) -> bool:
    return "ActiveRecord::Migration" in text


READER = Reader(tool="rails", suffixes=(".rb",), claims=_claims, read=read_rails_migration)
