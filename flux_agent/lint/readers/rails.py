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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ...errors import FluxInputError
from ...pg.parse import SqlSyntaxError, split_statements
from ...pg.quote import ident, ident_list, literal, qname, qname_in
from ...schema.readers._ruby import Call, Interp, Lam, Num, Parser, Sym, pluralize, rails_type, sha10, singularize, tokens
from . import Piece, Reader, ReadMigration, Unread

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
_BLOCK_KEYWORDS = {"if", "unless", "while", "until", "case", "begin", "for", "module"}
_NO_SQL = {"say", "puts", "print", "p", "pp", "require", "require_relative"}  # methods that send no SQL
_ON_ACTION = {"cascade": "CASCADE", "nullify": "SET NULL", "restrict": "RESTRICT", "no_action": "NO ACTION"}
_METHODS = {"change", "up", "down", "self.up", "self.down"}


class _Unreadable(Exception):
    """A call this reader cannot turn into SQL: the message says why."""


@dataclass
class Opaque:
    """A statement that is not a DSL call the parser reads (Ruby logic, an assignment, ...)."""

    line: int
    head: str = ""  # its first word (a model class when capitalised)


# --------------------------------------------------------------------------
# Lenient parsing: DSL calls where they are, Opaque for every other statement
# --------------------------------------------------------------------------


class _Lenient(Parser):
    def block(self, close: Optional[str]) -> list:
        """Statements up to `end` (close="end"), `}` (close="}") or the end of the file (None)."""
        out: list = []
        while True:
            self.skip_nl()
            kind, v = self.peek()[:2]
            if kind == "eof":
                return out
            if close and ((kind == "name" and v == "end") or (kind == "op" and v == "}")):
                self.i += 1
                return out
            out.append(self.item())

    def item(self) -> Any:
        start, line = self.i, self.peek()[2]
        head = str(self.peek()[1])
        try:
            kind, v = self.peek()[:2]
            if kind == "name" and v in ("class", "def"):
                return self.definition(v)
            if kind != "name" or v in _BLOCK_KEYWORDS:
                raise FluxInputError("not a call")
            call = self.chain()
            if call.name in ("raise", "private", "protected", "public"):
                self.skip_to_nl()  # raise ActiveRecord::IrreversibleMigration, a visibility keyword
                return call
            if self.at("op", "(") and not self.peek()[3]:
                self.i += 1
                self.arguments(call, ")")
            elif self.starts_value() or (self.at("op", "[") and self.peek()[3]):
                self.arguments(call, None)
            if self.at("name", "do"):
                self.i += 1
                call.block = self.params() or self.block("end")
            elif self.at("op", "{"):
                self.i += 1
                call.block = self.params() or self.block("}")
            if not (self.at("nl") or self.at("eof") or self.at("name", "end") or self.at("op", "}")):
                raise FluxInputError("more after the call")
            ahead = self.i
            while self.toks[ahead][0] == "nl":
                ahead += 1
            if self.toks[ahead][:2] == ("op", "."):
                raise FluxInputError("a method chain goes on on the next line")
            return call
        except (FluxInputError, IndexError):
            self.i = start
            self.skip()
            return Opaque(line, head)

    def params(self) -> list:
        """Step over `|t|` after `do` or `{` (returns [] so that `or` goes on to the block)."""
        if self.at("op", "|"):
            self.i += 1
            while not (self.at("op", "|") or self.at("eof")):
                self.i += 1
            self.i += 1
        return []

    def definition(self, word: str) -> Call:
        """`def name(...) ... end` as Call("def", [name]), `class A < B ... end` as Call("class", [A, B])."""
        self.i += 1
        if word == "def":
            call = Call(name="def", line=self.peek()[2], args=[self.chain().name])
            self.skip_to_nl()
        else:
            call = Call(name="class", line=self.peek()[2], args=[self.chain()])
            if self.at("other", "<"):
                self.i += 1
                call.args.append(self.chain())
            self.skip_to_nl()
        call.block = self.block("end")
        return call

    def skip_to_nl(self) -> None:
        depth = 0
        while not self.at("eof") and not (depth == 0 and self.at("nl")):
            v = self.peek()[1]
            depth += (v in ("(", "[", "{")) - (v in (")", "]", "}")) if self.peek()[0] == "op" else 0
            self.i += 1

    def skip(self) -> None:
        """Step over one statement of any Ruby: to the end of its line (continued lines and
        brackets included), or to the `end` of the block it opens."""
        depth = blocks = 0
        prev: Optional[tuple] = None
        while True:
            kind, v = self.peek()[:2]
            if kind == "eof":
                return
            if depth == 0 and blocks == 0:
                if kind == "nl":
                    ahead = self.i + 1
                    while self.toks[ahead][0] == "nl":
                        ahead += 1
                    continued = prev is not None and prev[0] in ("op", "other") and prev[1] not in (")", "]", "}")
                    if not continued and not (self.toks[ahead][0] == "op" and self.toks[ahead][1] == "."):
                        self.i += 1
                        return
                elif prev is not None and ((kind == "name" and v == "end") or (kind == "op" and v == "}")):
                    return  # the end of the block around this statement
            after_dot = prev is not None and prev[0] == "op" and prev[1] in (".", "::")
            if kind == "op" and v in ("(", "[", "{"):
                depth += 1
            elif kind == "op" and v in (")", "]", "}"):
                depth -= 1
            elif kind == "name" and not after_dot:
                opens_line = prev is None or (prev[0] not in ("str", "sym", "num", "name") and prev[1] not in (")", "]", "}"))
                if v in ("if", "unless", "while", "until") and opens_line:
                    blocks += 1
                elif v in ("case", "begin", "def", "class", "module", "for", "do"):
                    blocks += 1
                elif v == "end":
                    blocks -= 1
            prev = (kind, v)
            self.i += 1


# --------------------------------------------------------------------------
# SQL pieces of Rails' adapter
# --------------------------------------------------------------------------


def _name(v: Any) -> str:
    if isinstance(v, (str, Num)) and not isinstance(v, Interp):
        return v.text if isinstance(v, Num) else str(v)
    raise _Unreadable("a name is computed by Ruby at run time")


def _names(v: Any) -> list[str]:
    return [_name(x) for x in v] if isinstance(v, list) else [_name(v)]


def _static(v: Any) -> None:
    """Raise when a value is only known once Ruby runs (a variable, a method call, interpolation)."""
    if isinstance(v, Interp):
        raise _Unreadable("a string interpolates Ruby (#{...})")
    if isinstance(v, Call):
        raise _Unreadable(f"an argument ({v.name}) is computed by Ruby at run time")
    for x in v.values() if isinstance(v, dict) else v if isinstance(v, list) else ():
        _static(x)


def _pg_array(items: list) -> str:
    def one(x: Any) -> str:
        if x is None:
            return "NULL"
        s = ("t" if x else "f") if isinstance(x, bool) else x.text if isinstance(x, Num) else str(x)
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' if not s or any(c in s for c in '{},"\\ ') else s

    return "{" + ",".join(one(x) for x in items) + "}"


def _value(v: Any) -> str:
    """A Ruby value as the adapter quotes it into SQL (defaults, change_column_null's UPDATE)."""
    if isinstance(v, Lam):
        if not isinstance(v.body, str) or isinstance(v.body, Interp):
            raise _Unreadable("a default's lambda runs Ruby")
        return v.body
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, Num):
        return v.text.replace("_", "")
    if isinstance(v, dict):
        return literal(json.dumps(_plain(v)))
    if isinstance(v, list):
        return literal(_pg_array(v))
    if isinstance(v, str) and not isinstance(v, Interp):
        return literal(str(v))
    raise _Unreadable("a value is computed by Ruby at run time")


def _plain(v: Any) -> Any:
    if isinstance(v, Num):
        return float(v.text) if any(c in v.text for c in ".eE") else int(v.text.replace("_", ""))
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return [_plain(x) for x in v] if isinstance(v, list) else v


class _Sql:
    """The adapter's SQL for each DSL call, for one migration's Rails version."""

    def __init__(self, version: float):
        self.version = version

    # -- columns -------------------------------------------------------------

    def col_type(self, kind: str, o: dict) -> str:
        if kind == "primary_key":
            return "bigserial primary key" if self.version >= 5.1 else "serial primary key"
        if kind == "enum":
            return qname(_name(o.get("enum_type")))
        if kind in ("serial", "bigserial"):
            return kind
        typ = rails_type(kind, o, precision6=self.version >= 7.0)
        return typ + ("[]" if o.get("array") is True else "")

    def column(self, name: str, kind: str, o: dict) -> str:
        _static(o)
        if kind == "virtual":
            typ = self.col_type(str(o.get("type", "string")), o)
            stored = " STORED" if o.get("stored") else ""
            return f"{ident(name)} {typ} GENERATED ALWAYS AS ({_name(o['as'])}){stored}"
        out = f"{ident(name)} {self.col_type(kind, o)}"
        if o.get("collation"):
            out += f" COLLATE {ident(_name(o['collation']))}"
        if o.get("default") is not None:
            out += f" DEFAULT {_value(o['default'])}"
        if o.get("null") is False:
            out += " NOT NULL"
        if o.get("primary_key") is True and kind != "primary_key":
            out += " PRIMARY KEY"
        return out

    # -- indexes and keys ----------------------------------------------------

    def index_name(self, table: str, cols: list[str]) -> str:
        tname = table.split(".")[-1]
        words = ["".join(c if c.isalnum() or c == "_" else "_" for c in col) for col in cols]
        name = f"index_{tname}_on_{'_and_'.join(words)}"
        if len(name.encode()) <= 62:
            return name
        tail = "_" + sha10(name)  # Rails 7.1's short name for a long one
        return f"idx_on_{'_'.join(words)}"[: 62 - len(tail)] + tail

    def index_cols(self, cols: Any, o: dict) -> tuple[list[str], str]:
        """(column names for the index name, the SQL of the index's items)."""
        if isinstance(cols, str) and not isinstance(cols, Sym) and not cols.replace("_", "").isalnum():
            return [str(cols)], str(cols)  # an expression, as written
        names = _names(cols)
        order, opclass = o.get("order"), o.get("opclass")
        items = []
        for n in names:
            item = ident(n)
            cls = opclass.get(n) if isinstance(opclass, dict) else opclass
            item += f" {_name(cls)}" if cls else ""
            how = order.get(n) if isinstance(order, dict) else order
            item += f" {_name(how).upper()}" if how else ""
            items.append(item)
        return names, ", ".join(items)

    def add_index(self, table: str, cols: Any, o: dict) -> str:
        _static(o)
        names, items = self.index_cols(cols, o)
        name = _name(o["name"]) if o.get("name") else self.index_name(table, names)
        sql = "CREATE UNIQUE INDEX" if o.get("unique") else "CREATE INDEX"
        sql += " CONCURRENTLY" if str(o.get("algorithm")) == "concurrently" else ""
        sql += " IF NOT EXISTS" if o.get("if_not_exists") else ""
        sql += f" {ident(name)} ON {qname(table)}"
        sql += f" USING {_name(o['using'])}" if o.get("using") else ""
        sql += f" ({items})"
        sql += f" INCLUDE ({ident_list(_names(o['include']))})" if o.get("include") else ""
        sql += " NULLS NOT DISTINCT" if o.get("nulls_not_distinct") else ""
        sql += f" WHERE {_name(o['where'])}" if o.get("where") else ""
        return sql

    def remove_index(self, table: str, cols: Any, o: dict) -> str:
        _static(o)
        cols = o.get("column", cols)
        if o.get("name"):
            name = _name(o["name"])
        elif cols is not None:
            name = self.index_name(table, self.index_cols(cols, o)[0])
        else:
            raise _Unreadable("remove_index names neither the index nor its columns")
        sql = "DROP INDEX" + (" CONCURRENTLY" if str(o.get("algorithm")) == "concurrently" else "")
        return sql + (" IF EXISTS" if o.get("if_exists") else "") + f" {qname_in(table, name)}"

    def fk_name(self, table: str, to: Optional[str], o: dict) -> str:
        if o.get("name"):
            return _name(o["name"])
        column = o.get("column") or (f"{singularize(to.split('.')[-1])}_id" if to else None)
        if column is None:
            raise _Unreadable("the foreign key is named by neither its name nor its table or column")
        return f"fk_rails_{sha10(f'{table}_{chr(95).join(_names(column))}_fk')}"

    def fk_clause(self, table: str, to: str, o: dict) -> str:
        _static(o)
        column = o.get("column") or f"{singularize(to.split('.')[-1])}_id"
        ref = o.get("primary_key") or "id"
        sql = (f"CONSTRAINT {ident(self.fk_name(table, to, o))} FOREIGN KEY ({ident_list(_names(column))}) "
               f"REFERENCES {qname(to)} ({ident_list(_names(ref))})")
        if o.get("on_delete"):
            sql += f" ON DELETE {_ON_ACTION.get(str(o['on_delete']), str(o['on_delete']).upper())}"
        if o.get("on_update"):
            sql += f" ON UPDATE {_ON_ACTION.get(str(o['on_update']), str(o['on_update']).upper())}"
        if o.get("deferrable"):
            sql += " DEFERRABLE" + (" INITIALLY DEFERRED" if str(o["deferrable"]) == "deferred" else "")
        return sql

    def add_foreign_key(self, table: str, to: str, o: dict) -> str:
        sql = f"ALTER TABLE {qname(table)} ADD {self.fk_clause(table, to, o)}"
        return sql + (" NOT VALID" if o.get("validate") is False else "")

    def check_name(self, table: str, expr: Optional[str], o: dict) -> str:
        if o.get("name"):
            return _name(o["name"])
        if expr is None:
            raise _Unreadable("the check constraint is named by neither its name nor its expression")
        return f"chk_rails_{sha10(f'{table}_{expr}_chk')}"

    def check_clause(self, table: str, expr: str, o: dict) -> str:
        _static(o)
        return f"CONSTRAINT {ident(self.check_name(table, expr, o))} CHECK ({expr})"

    def reference(self, table: str, ref: str, o: dict, inline: bool) -> tuple[list[str], list[str], list[str]]:
        """(column definitions, CREATE INDEX statements, foreign key clauses) of t.references / add_reference."""
        _static(o)
        tname = table.split(".")[-1]
        kind = str(o.get("type", "bigint" if self.version >= 5.1 else "integer"))
        col_o = {k: v for k, v in o.items() if k in ("null", "default", "limit", "comment")}
        cols = [self.column(f"{ref}_id", kind, col_o)]
        names = [f"{ref}_id"]
        if o.get("polymorphic"):
            cols.append(self.column(f"{ref}_type", "string", col_o))
            names = [f"{ref}_type", f"{ref}_id"]
        indexes = []
        if o.get("index", self.version >= 5.0) is not False:
            extra = dict(o["index"]) if isinstance(o.get("index"), dict) else {}
            if o.get("polymorphic"):
                extra.setdefault("name", f"index_{tname}_on_{ref}")
            indexes.append(self.add_index(table, names, extra))
        fks = []
        fk = o.get("foreign_key")
        if fk and not o.get("polymorphic"):
            fo = dict(fk) if isinstance(fk, dict) else {}
            to = _name(fo.pop("to_table")) if fo.get("to_table") else pluralize(ref)
            fks.append(self.fk_clause(table, to, {"column": f"{ref}_id", **fo}) +
                       (" NOT VALID" if fo.get("validate") is False and not inline else ""))
        return cols, indexes, fks


# --------------------------------------------------------------------------
# The migration
# --------------------------------------------------------------------------


def _snippet(lines: list[str], line: int) -> str:
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return text if len(text) <= 80 else text[:77] + "..."


class _Migration:
    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.version = 4.2
        self.transactional = True
        self.unread: list[Unread] = []
        self.helpers: set[str] = set()
        self.sql = _Sql(self.version)

    def miss(self, line: int, why: str) -> None:
        self.unread.append(Unread(line=line, what=f"`{_snippet(self.lines, line)}`: {why}"))

    # -- the walk ------------------------------------------------------------

    def read(self, text: str) -> ReadMigration:
        items = _Lenient(tokens(text, lenient=True)).block(None)
        bodies: dict[str, list] = {}
        found = False
        for item in items:
            if isinstance(item, Call) and item.name == "class" and len(item.args) > 1 \
                    and item.args[1].name.startswith("ActiveRecord::Migration"):
                found = True
                index = item.args[1].index
                self.version = float(index.text) if isinstance(index, Num) else 4.2
                self.sql = _Sql(self.version)
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
        if "change" in bodies and not ({"up", "down"} & bodies.keys()):
            inverse: Optional[list[Piece]] = []
            self.walk(bodies["change"], "change", up, inverse_box := [inverse])
            down = list(reversed(inverse_box[0])) if inverse_box[0] is not None else []
        else:
            self.walk(bodies.get("up", []), "up", up, [None])
            down = []
            self.walk(bodies.get("down", []), "down", down, [None])
        return ReadMigration(tool="rails", up=up, down=down, transactional=self.transactional, unread=self.unread)

    def class_body(self, items: list, bodies: dict[str, list]) -> None:
        for item in items:
            if isinstance(item, Call) and item.name == "disable_ddl_transaction!":
                self.transactional = False
            elif isinstance(item, Call) and item.name == "def":
                name = str(item.args[0])
                if name in _METHODS:
                    bodies[name.removeprefix("self.")] = item.block or []
                else:
                    self.helpers.add(name.removeprefix("self."))
            elif isinstance(item, Call) and item.name == "class":
                continue  # a model class the migration defines: it runs nothing by itself
            elif isinstance(item, Opaque) and _snippet(self.lines, item.line)[:1].isupper() \
                    and "=" in _snippet(self.lines, item.line):
                continue  # a constant: used (and reported) where the Ruby that reads it runs
            elif isinstance(item, Call) and item.name in _NO_SQL | {"private", "protected", "public"}:
                continue
            else:
                self.miss(item.line, "Ruby in the migration class that Flux does not run")

    def walk(self, items: list, mode: str, out: list[Piece], inverse: list, assured: bool = False) -> None:
        """Append the SQL of `items` to `out`; in a `change`, put what undoes them into inverse[0]
        (set to None once something cannot be undone)."""
        for item in items:
            if isinstance(item, Opaque):
                self.miss(item.line, f"{item.head} is application code (a model or class): its SQL is not known until "
                          "Ruby runs" if item.head[:1].isupper() else
                          "Ruby logic (a condition, loop, assignment or expression) is not run by Flux")
                continue
            try:
                self.one(item, mode, out, inverse, assured)
            except _Unreadable as exc:
                self.miss(item.line, str(exc))
            except (FluxInputError, SqlSyntaxError) as exc:
                self.miss(item.line, f"cannot be turned into SQL: {exc}")
            except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
                what = f"missing option {exc.args[0]}" if isinstance(exc, KeyError) else \
                    "a missing argument" if isinstance(exc, IndexError) else str(exc)
                self.miss(item.line, f"{item.name} with {what}: not read")

    def one(self, c: Call, mode: str, out: list[Piece], inverse: list, assured: bool) -> None:
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
        if name in ("safety_assured", "say_with_time", "transaction", "ActiveRecord::Base.transaction") \
                and block is not None:
            self.walk(block, mode, out, inverse, assured or name == "safety_assured")
            return
        if name in _NO_SQL or name in ("private", "protected", "public") or name.endswith(".reset_column_information"):
            return
        if name == "raise":
            if mode == "down":
                return  # ActiveRecord::IrreversibleMigration: nothing is undone
            raise _Unreadable("raises an error when Ruby runs")
        if name[:1].isupper():
            raise _Unreadable(f"{name.split('.')[0]} is application code (a model or class): its SQL is not known "
                              "until Ruby runs")
        if name in self.helpers:
            raise _Unreadable(f"calls {name}, a method defined in the migration: Ruby Flux does not run")
        if block is not None and name not in ("create_table", "change_table", "create_join_table", "drop_table"):
            raise _Unreadable(f"{name} with a block runs Ruby Flux does not run (a loop, or a method of the app)")
        _static(c.args)
        _static({k: v for k, v in c.kwargs.items()})
        made = self.call(c)
        if made is None:
            raise _Unreadable(f"{name} is not part of the migration DSL Flux reads")
        ups, undo = made
        for sql, line in ups:
            if assured:
                sql = self.assured(sql)
            out.append(Piece(sql=sql, line=line))
        if mode == "change" and inverse[0] is not None:
            inverse[0] = None if undo is None else inverse[0] + [Piece(sql=s, line=c.line) for s in undo]

    @staticmethod
    def assured(sql: str) -> str:
        try:
            stmts = split_statements(sql)
        except SqlSyntaxError:
            return f"{_ASSURED_NOTE}\n{sql}"
        if len(stmts) <= 1:
            return f"{_ASSURED_NOTE}\n{sql}"
        return "\n".join(f"{_ASSURED_NOTE}\n{s.text.strip().rstrip(';')};" for s in stmts)

    # -- one DSL call --------------------------------------------------------

    def call(self, c: Call) -> Optional[tuple[list[tuple[str, int]], Optional[list[str]]]]:
        """([(SQL, line)], the SQL that undoes it in a `change`, None: Rails cannot invert it),
        or None for a method this reader does not know."""
        s, a, o, line = self.sql, c.args, c.kwargs, c.line
        name = c.name.removeprefix("connection.").removeprefix("ActiveRecord::Base.connection.")

        def one(sql: str, undo: Optional[list[str]]) -> tuple[list[tuple[str, int]], Optional[list[str]]]:
            return [(sql, line)], undo

        if name in ("execute", "exec_query", "exec_update", "exec_delete", "exec_insert"):
            if not a or not isinstance(a[0], str):
                raise _Unreadable(f"{name} of SQL computed by Ruby at run time")
            return one(str(a[0]), None)
        if name in ("add_column", "add_column_if_not_exists"):
            table, col, kind = _name(a[0]), _name(a[1]), _name(a[2])
            exists = " IF NOT EXISTS" if o.get("if_not_exists") or name.endswith("_exists") else ""
            sql = f"ALTER TABLE {qname(table)} ADD COLUMN{exists} {s.column(col, kind, o)}"
            undo = [f"ALTER TABLE {qname(table)} DROP COLUMN {ident(col)}"]
            return [(sql, line)] + self.comment(table, col, o, line), undo
        if name in ("remove_column", "remove_columns"):
            table = _name(a[0])
            cols = [_name(x) for x in a[1:2]] if name == "remove_column" else [_name(x) for x in a[1:]]
            exists = " IF EXISTS" if o.get("if_exists") else ""
            sql = f"ALTER TABLE {qname(table)} " + ", ".join(f"DROP COLUMN{exists} {ident(x)}" for x in cols)
            kind = a[2] if name == "remove_column" and len(a) > 2 else o.get("type")
            try:
                undo = None if kind is None else [
                    f"ALTER TABLE {qname(table)} ADD COLUMN {s.column(x, _name(kind), o)}" for x in cols]
            except (_Unreadable, KeyError):
                undo = None  # a column Rails would re-add, but whose definition is not all here
            return one(sql, undo)
        if name in ("add_timestamps", "remove_timestamps"):
            table = _name(a[0])
            opts = {"null": False, **o} if self.version >= 5.0 else o
            add = f"ALTER TABLE {qname(table)} " + ", ".join(
                f"ADD COLUMN {s.column(x, 'datetime', opts)}" for x in ("created_at", "updated_at"))
            drop = f"ALTER TABLE {qname(table)} DROP COLUMN created_at, DROP COLUMN updated_at"
            return one(add, [drop]) if name == "add_timestamps" else one(drop, [add])
        if name == "rename_column":
            table, old, new = _name(a[0]), _name(a[1]), _name(a[2])
            return one(f"ALTER TABLE {qname(table)} RENAME COLUMN {ident(old)} TO {ident(new)}",
                       [f"ALTER TABLE {qname(table)} RENAME COLUMN {ident(new)} TO {ident(old)}"])
        if name == "rename_table":
            old, new = _name(a[0]), _name(a[1])
            return one(f"ALTER TABLE {qname(old)} RENAME TO {ident(new.split('.')[-1])}",
                       [f"ALTER TABLE {qname(new)} RENAME TO {ident(old.split('.')[-1])}"])
        if name == "rename_index":
            table, old, new = _name(a[0]), _name(a[1]), _name(a[2])
            return one(f"ALTER INDEX {qname_in(table, old)} RENAME TO {ident(new)}",
                       [f"ALTER INDEX {qname_in(table, new)} RENAME TO {ident(old)}"])
        if name == "change_column":
            table, col, kind = _name(a[0]), _name(a[1]), _name(a[2])
            typ = s.col_type(kind, o)
            parts = [f"ALTER COLUMN {ident(col)} TYPE {typ}" +
                     (f" COLLATE {ident(_name(o['collation']))}" if o.get("collation") else "") +
                     (f" USING {_name(o['using'])}" if o.get("using") else "")]
            if "default" in o:
                parts.append(f"ALTER COLUMN {ident(col)} " +
                             ("DROP DEFAULT" if o["default"] is None else f"SET DEFAULT {_value(o['default'])}"))
            if "null" in o:
                parts.append(f"ALTER COLUMN {ident(col)} {'DROP' if o['null'] is not False else 'SET'} NOT NULL")
            return one(f"ALTER TABLE {qname(table)} " + ", ".join(parts), None)
        if name == "change_column_null":
            table, col, null = _name(a[0]), _name(a[1]), a[2]
            alter = f"ALTER TABLE {qname(table)} ALTER COLUMN {ident(col)}"
            ups = []
            if null is False and len(a) > 3 and a[3] is not None:
                ups.append((f"UPDATE {qname(table)} SET {ident(col)} = {_value(a[3])} WHERE {ident(col)} IS NULL", line))
            ups.append((f"{alter} {'SET' if null is False else 'DROP'} NOT NULL", line))
            return ups, [f"{alter} {'DROP' if null is False else 'SET'} NOT NULL"]
        if name == "change_column_default":
            table, col = _name(a[0]), _name(a[1])
            alter = f"ALTER TABLE {qname(table)} ALTER COLUMN {ident(col)}"

            def to(v: Any) -> str:
                return f"{alter} DROP DEFAULT" if v is None else f"{alter} SET DEFAULT {_value(v)}"

            if len(a) > 2:
                return one(to(a[2]), None)
            if "to" in o or "from" in o:
                return one(to(o.get("to")), [to(o.get("from"))])
            raise _Unreadable("change_column_default without a default")
        if name == "add_index":
            table = _name(a[0])
            undo = f"DROP INDEX {qname_in(table, _name(o['name']) if o.get('name') else s.index_name(table, s.index_cols(a[1], o)[0]))}"
            return one(s.add_index(table, a[1], o), [undo])
        if name == "remove_index":
            table = _name(a[0])
            cols = a[1] if len(a) > 1 else None
            undo = None if o.get("column", cols) is None else [s.add_index(table, o.get("column", cols), o)]
            return one(s.remove_index(table, cols, o), undo)
        if name in ("add_reference", "add_belongs_to"):
            table, ref = _name(a[0]), _name(a[1])
            cols, indexes, fks = s.reference(table, ref, o, inline=False)
            ups = [(f"ALTER TABLE {qname(table)} " + ", ".join(f"ADD COLUMN {x}" for x in cols), line)]
            ups += [(x, line) for x in indexes]
            ups += [(f"ALTER TABLE {qname(table)} ADD {x}", line) for x in fks]
            names = [f"{ref}_type"] * bool(o.get("polymorphic")) + [f"{ref}_id"]
            return ups, [f"ALTER TABLE {qname(table)} " + ", ".join(f"DROP COLUMN {ident(x)}" for x in names)]
        if name in ("remove_reference", "remove_belongs_to"):
            table, ref = _name(a[0]), _name(a[1])
            ups = []
            fk = o.get("foreign_key")
            if fk and not o.get("polymorphic"):
                fo = dict(fk) if isinstance(fk, dict) else {}
                to = _name(fo.pop("to_table")) if fo.get("to_table") else pluralize(ref)
                ups.append((f"ALTER TABLE {qname(table)} DROP CONSTRAINT "
                            f"{ident(s.fk_name(table, to, {'column': f'{ref}_id', **fo}))}", line))
            names = [f"{ref}_type"] * bool(o.get("polymorphic")) + [f"{ref}_id"]
            ups.append((f"ALTER TABLE {qname(table)} " + ", ".join(f"DROP COLUMN {ident(x)}" for x in names), line))
            cols, indexes, fks = s.reference(table, ref, o, inline=False)
            undo = [f"ALTER TABLE {qname(table)} " + ", ".join(f"ADD COLUMN {x}" for x in cols)] + indexes + \
                [f"ALTER TABLE {qname(table)} ADD {x}" for x in fks]
            return ups, undo
        if name == "add_foreign_key":
            table, to = _name(a[0]), _name(a[1])
            drop = f"ALTER TABLE {qname(table)} DROP CONSTRAINT {ident(s.fk_name(table, to, o))}"
            return one(s.add_foreign_key(table, to, o), [drop])
        if name == "remove_foreign_key":
            table, to = _name(a[0]), (_name(a[1]) if len(a) > 1 else _name(o["to_table"]) if o.get("to_table") else None)
            sql = f"ALTER TABLE {qname(table)} DROP CONSTRAINT {ident(s.fk_name(table, to, o))}"
            return one(sql, None if to is None else [s.add_foreign_key(table, to, o)])
        if name == "validate_foreign_key":
            table, to = _name(a[0]), (_name(a[1]) if len(a) > 1 else None)
            return one(f"ALTER TABLE {qname(table)} VALIDATE CONSTRAINT {ident(s.fk_name(table, to, o))}", [])
        if name == "add_check_constraint":
            table, expr = _name(a[0]), _name(a[1])
            sql = f"ALTER TABLE {qname(table)} ADD {s.check_clause(table, expr, o)}"
            sql += " NOT VALID" if o.get("validate") is False else ""
            return one(sql, [f"ALTER TABLE {qname(table)} DROP CONSTRAINT {ident(s.check_name(table, expr, o))}"])
        if name == "remove_check_constraint":
            table, expr = _name(a[0]), (_name(a[1]) if len(a) > 1 else None)
            sql = f"ALTER TABLE {qname(table)} DROP CONSTRAINT {ident(s.check_name(table, expr, o))}"
            return one(sql, None if expr is None else [f"ALTER TABLE {qname(table)} ADD {s.check_clause(table, expr, o)}"])
        if name == "validate_check_constraint":
            table = _name(a[0])
            return one(f"ALTER TABLE {qname(table)} VALIDATE CONSTRAINT {ident(s.check_name(table, None, o))}", [])
        if name in ("enable_extension", "disable_extension"):
            ext = _name(a[0])
            create, drop = f"CREATE EXTENSION IF NOT EXISTS {ident(ext)}", f"DROP EXTENSION IF EXISTS {ident(ext)} CASCADE"
            return one(create, [drop]) if name == "enable_extension" else one(drop, [create])
        if name == "create_enum":
            enum = _name(a[0])
            values = a[1] if len(a) > 1 and isinstance(a[1], list) else a[1:]
            return one(f"CREATE TYPE {qname(enum)} AS ENUM ({', '.join(literal(_name(v)) for v in values)})",
                       [f"DROP TYPE {qname(enum)}"])
        if name == "rename_enum":
            old, new = _name(a[0]), _name(a[1]) if len(a) > 1 else _name(o["to"])
            return one(f"ALTER TYPE {qname(old)} RENAME TO {ident(new)}",
                       [f"ALTER TYPE {qname(new)} RENAME TO {ident(old.split('.')[-1])}"])
        if name == "drop_enum":
            return one(f"DROP TYPE {'IF EXISTS ' if o.get('if_exists') else ''}{qname(_name(a[0]))}", None)
        if name == "add_enum_value":
            where = f" BEFORE {literal(_name(o['before']))}" if o.get("before") else \
                f" AFTER {literal(_name(o['after']))}" if o.get("after") else ""
            return one(f"ALTER TYPE {qname(_name(a[0]))} ADD VALUE {literal(_name(a[1]))}{where}", None)
        if name == "rename_enum_value":
            return one(f"ALTER TYPE {qname(_name(a[0]))} RENAME VALUE {literal(_name(o['from']))} TO "
                       f"{literal(_name(o['to']))}", None)
        if name in ("change_column_comment", "change_table_comment"):
            table = _name(a[0])
            what = f"COLUMN {qname(table)}.{ident(_name(a[1]))}" if name == "change_column_comment" else f"TABLE {qname(table)}"
            v = (a[2] if name == "change_column_comment" else a[1]) if len(a) > (2 if name == "change_column_comment" else 1) else o.get("to")
            return one(f"COMMENT ON {what} IS {'NULL' if v is None else _value(v)}", None)
        if name == "create_table":
            return self.create_table(c)
        if name == "create_join_table":
            t1, t2 = sorted([_name(a[0]), _name(a[1])])
            table = _name(o["table_name"]) if o.get("table_name") else f"{t1}_{t2}"
            kind = "bigint" if self.version >= 5.1 else "integer"
            cols = [s.column(f"{singularize(x)}_id", kind, {"null": False}) for x in (_name(a[0]), _name(a[1]))]
            return one(f"CREATE TABLE {qname(table)} ({', '.join(cols)})", [f"DROP TABLE {qname(table)}"])
        if name in ("drop_table", "drop_join_table"):
            table = _name(a[0]) if name == "drop_table" else "_".join(sorted([_name(a[0]), _name(a[1])]))
            sql = f"DROP TABLE {'IF EXISTS ' if o.get('if_exists') else ''}{qname(table)}"
            sql += " CASCADE" if str(o.get("force")) == "cascade" else ""
            undo = None
            if c.block is not None:
                made = self.create_table(Call(name="create_table", line=c.line, args=[a[0]], kwargs=o, block=c.block))
                undo = [x for x, _ in made[0]]
            return one(sql, undo)
        if name == "change_table":
            return self.change_table(c)
        return None

    def comment(self, table: str, col: str, o: dict, line: int) -> list[tuple[str, int]]:
        if o.get("comment") is None:
            return []
        return [(f"COMMENT ON COLUMN {qname(table)}.{ident(col)} IS {_value(o['comment'])}", line)]

    def create_table(self, c: Call) -> tuple[list[tuple[str, int]], Optional[list[str]]]:
        s, o, table = self.sql, c.kwargs, _name(c.args[0])
        _static(o)
        cols, extra, after = [], [], []
        pk_opt, id_opt = o.get("primary_key"), o.get("id", True)
        if isinstance(pk_opt, list):
            extra.append(f"PRIMARY KEY ({ident_list(_names(pk_opt))})")
        elif id_opt is not False:
            kind = str(id_opt) if isinstance(id_opt, str) else "primary_key"
            pk = _name(pk_opt) if pk_opt is not None else "id"
            if kind in ("primary_key", "bigint", "integer", "serial", "bigserial"):
                typ = {"bigint": "bigserial", "integer": "serial"}.get(kind, kind)
                cols.append(f"{ident(pk)} {s.col_type('primary_key', {}) if typ == 'primary_key' else typ + ' primary key'}")
            elif kind == "uuid":
                default = _value(o["default"]) if o.get("default") is not None else "gen_random_uuid()"
                cols.append(f"{ident(pk)} uuid DEFAULT {default} NOT NULL PRIMARY KEY")
            else:
                cols.append(f"{s.column(pk, kind, {'null': False})} PRIMARY KEY")
        for item in c.block or ():
            if isinstance(item, Opaque):
                self.miss(item.line, "Ruby logic inside create_table is not run by Flux")
                continue
            try:
                self.table_item(table, item, cols, extra, after)
            except _Unreadable as exc:
                self.miss(item.line, str(exc))
            except (FluxInputError, TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
                self.miss(item.line, f"{item.name} not read: {exc}")
        head = "CREATE TABLE" + (" IF NOT EXISTS" if o.get("if_not_exists") else "")
        ups = []
        if o.get("force"):
            ups.append((f"DROP TABLE IF EXISTS {qname(table)}" + (" CASCADE" if str(o["force"]) == "cascade" else ""),
                        c.line))
        ups.append((f"{head} {qname(table)} ({', '.join(cols + extra)})", c.line))
        ups += after
        if o.get("comment") is not None:
            ups.append((f"COMMENT ON TABLE {qname(table)} IS {_value(o['comment'])}", c.line))
        return ups, [f"DROP TABLE {qname(table)}"]

    def table_item(self, table: str, c: Call, cols: list, extra: list, after: list) -> None:
        s, a, o = self.sql, c.args, c.kwargs
        _static(a)
        _static(o)
        method = c.name.split(".", 1)[1] if "." in c.name else c.name
        if method == "timestamps":
            opts = {"null": False, **o} if self.version >= 5.0 else o
            cols += [s.column(x, "datetime", opts) for x in ("created_at", "updated_at")]
        elif method in ("references", "belongs_to"):
            for ref in a:
                more, indexes, fks = s.reference(table, _name(ref), o, inline=True)
                cols += more
                extra += fks
                after += [(x, c.line) for x in indexes]
        elif method == "index":
            after.append((s.add_index(table, a[0], o), c.line))
        elif method == "check_constraint":
            extra.append(s.check_clause(table, _name(a[0]), o))
        elif method == "foreign_key":
            extra.append(s.fk_clause(table, _name(a[0]), o))
        elif method in ("column", "primary_key"):
            kind = _name(a[1]) if len(a) > 1 else "primary_key"
            cols.append(s.column(_name(a[0]), kind, {**o, "primary_key": True} if method == "primary_key" and kind != "primary_key" else o))
        elif "." in c.name and c.block is None:
            for col in a:
                cols.append(s.column(_name(col), method, o))
                if o.get("index"):  # t.string :email, index: {unique: true}
                    extra_o = dict(o["index"]) if isinstance(o["index"], dict) else {}
                    after.append((s.add_index(table, [_name(col)], extra_o), c.line))
        else:
            raise _Unreadable(f"{c.name} is not part of the create_table DSL Flux reads")

    def change_table(self, c: Call) -> tuple[list[tuple[str, int]], Optional[list[str]]]:
        """Each `t.<method>` as the migration method change_table runs for it (not bulk: one
        statement each)."""
        table = c.args[0]
        ups: list[tuple[str, int]] = []
        undo: Optional[list[str]] = []
        simple = {"column": "add_column", "remove": "remove_columns", "rename": "rename_column", "index": "add_index",
                  "remove_index": "remove_index", "timestamps": "add_timestamps", "remove_timestamps": "remove_timestamps",
                  "change": "change_column", "change_default": "change_column_default", "change_null": "change_column_null",
                  "check_constraint": "add_check_constraint", "remove_check_constraint": "remove_check_constraint",
                  "foreign_key": "add_foreign_key", "remove_foreign_key": "remove_foreign_key",
                  "rename_index": "rename_index"}
        for item in c.block or ():
            if isinstance(item, Opaque):
                self.miss(item.line, "Ruby logic inside change_table is not run by Flux")
                continue
            method = item.name.split(".", 1)[1] if "." in item.name else item.name
            calls: list[Call]
            if method in simple:
                calls = [Call(name=simple[method], line=item.line, args=[table, *item.args], kwargs=item.kwargs)]
            elif method in ("references", "belongs_to", "remove_references", "remove_belongs_to"):
                verb = "remove_reference" if method.startswith("remove") else "add_reference"
                calls = [Call(name=verb, line=item.line, args=[table, r], kwargs=item.kwargs) for r in item.args]
            elif "." in item.name and item.block is None:
                calls = [Call(name="add_column", line=item.line, args=[table, col, Sym(method)], kwargs=item.kwargs)
                         for col in item.args]
            else:
                self.miss(item.line, f"{item.name} is not part of the change_table DSL Flux reads")
                continue
            for one in calls:
                try:
                    _static(one.args)
                    made = self.call(one)
                except _Unreadable as exc:
                    self.miss(item.line, str(exc))
                    continue
                except (FluxInputError, TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
                    self.miss(item.line, f"{item.name} not read: {exc}")
                    continue
                ups += made[0]
                undo = None if undo is None or made[1] is None else undo + made[1]
        return ups, None if undo is None else list(reversed(undo))


def read_rails_migration(path: Path, text: str, project: Optional[Path] = None) -> ReadMigration:
    """A Rails migration as the SQL its up and down parts send (see the module docstring)."""
    try:
        return _Migration(text).read(text)
    except FluxInputError as exc:  # the lenient scan reads any text; kept so that one file never stops a run
        return ReadMigration(tool="rails", down=None, unread=[Unread(line=1, what=f"the file was not read: {exc}")])


def _claims(text: str) -> bool:
    return "ActiveRecord::Migration" in text


READER = Reader(tool="rails", suffixes=(".rb",), claims=_claims, read=read_rails_migration)
