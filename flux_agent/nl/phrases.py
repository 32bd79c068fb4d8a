"""The phrases every request is built from: a table, a column (`users.email`,
`the email column on users`, `users's email`, `it`), a list of columns, a
type, a SQL expression. Types go through postgres.type_name and expressions
through sql.parse_expr; nothing is pasted into SQL as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ..errors import FluxInputError, UnknownName, closest
from .lex import Cursor, Tok

from .names import Names
from ..pg.types import check_type_known, is_serial, type_name
from ..pg.quote import check_ident
from ..pg.parse import column_refs, parse_expr, render

# Words that are never a bare (unquoted) name: quote a table or column called "to".
NOT_NAMES = set("""
a an the to on of in into from with and then as by for column columns table tables field fields default
where using named called it its them is be should must not null nullable after before referencing
references if when which that
""".split())

COLUMN_WORDS = ("column", "field", "col", "attribute")
TABLE_WORDS = ("table", "model")
TYPE_ALIASES = {"string": "text"}
_MULTI_TYPES = {"double": ("precision",), "character": ("varying",), "bit": ("varying",)}


# Word lists the grammars share.
NOT_NULL = ("not null", "non-null", "non null", "not nullable", "non-nullable", "non nullable", "required",
            "mandatory", "that is required", "which is required", "that can't be null", "which can't be null",
            "that cannot be null", "which cannot be null", "can't be null", "cannot be null")
NULLABLE = ("nullable", "optional", "that can be null", "which can be null", "that is nullable",
            "which is nullable", "can be null", "null")
DEFAULT = ("with a default value of", "with the default value", "with default value", "with a default of",
           "with a default", "with default", "default value of", "default value", "defaulting to",
           "defaults to", "default to", "default of", "default =", "default :", "default")
BACKFILL = ("backfilled with", "backfilled to", "backfill existing rows with", "backfill with",
            "backfilling existing rows with", "backfilling with", "filling existing rows with",
            "fill existing rows with", "with existing rows set to", "setting existing rows to",
            "existing rows set to", "and existing rows get", "existing rows get", "with a backfill value of",
            "with a backfill of", "with backfill value", "with backfill", "backfill value", "backfill of", "backfill")
NULLS = ("existing null values", "existing nulls", "the nulls", "nulls", "null values", "null ones",
         "null rows", "missing values", "empty values", "existing rows", "the existing rows", "rows", "them", "it")
FILL = ("backfilling", "backfill", "filling", "fill", "replacing", "replace", "setting", "set", "defaulting",
        "populating")


@dataclass
class Ref:
    """A column as written: table (or None when not said yet) and column."""

    table: Optional[str]
    column: str
    resolved: bool = False


@dataclass
class Context:
    """What `it` means: the table and column of the change before."""

    table: Optional[str] = None
    column: Optional[str] = None


class Parser:
    def __init__(self, cur: Cursor, names: Names, ctx: Context):
        self.c = cur
        self.names = names
        self.ctx = ctx

    # -- names ---------------------------------------------------------------

    def name(self, what: str = "name", required: bool = True, new: bool = False) -> Optional[str]:
        """A name as written; a new unquoted one folded to lower case unless the schema uses capitals."""
        tok, after = self.c.peek(), self.c.peek(1)
        # A word that is never a bare name is one before a dot: a table's (documenso's `Field.page`).
        qualified = after is not None and after.kind == "punct" and after.text == "."
        if tok is not None and (tok.kind == "quoted" or (tok.kind == "word" and (tok.low not in NOT_NAMES or qualified))):
            self.c.i += 1
            text = tok.low if tok.kind == "word" and self._folds(new) else tok.text
            return check_ident(text, what) if new else text
        if required:
            self.c.fail(f"expected a {what}")
        return None

    def _folds(self, new: bool) -> bool:
        """Unquoted names fold to lower case as PostgreSQL does: new names unless the schema
        uses capitals, names of existing things only when there is no schema to look them up in."""
        return self.names.folds if new else not self.names.known

    def dotted(self, what: str = "name", required: bool = True, new: bool = False) -> list[str]:
        """`a`, `a.b` or `a.b.c`: the dots written without spaces around them."""
        first = self.name(what, required, new)
        if first is None:
            return []
        parts = [first]
        while True:
            dot, nxt = self.c.peek(), self.c.peek(1)
            prev = self.c.toks[self.c.i - 1]
            if (dot is not None and dot.text == "." and dot.kind == "punct" and dot.start == prev.end
                    and nxt is not None and nxt.start == dot.end and nxt.kind in ("word", "quoted")):
                self.c.i += 2
                parts.append(nxt.low if nxt.kind == "word" and self._folds(new) else nxt.text)
            else:
                return parts

    def new_name(self, what: str = "name") -> str:
        tok = self.c.peek()
        if tok is None:
            self.c.fail(f"expected the new {what}")
        if tok.kind == "word" and tok.low in ("a", "an", "the"):
            self.c.i += 1
        return self.name(what, new=True)

    def table(self) -> str:
        """A table the schema knows: `users`, `the users table`, `table "User"`, `it`."""
        c = self.c
        c.skip("the")
        had_word = c.accept(*TABLE_WORDS) is not None
        c.skip("the")
        if c.accept("it", "them", "that table", "this table"):
            if self.ctx.table is None:
                c.fail("'it' does not refer to anything yet")
            return self.ctx.table
        parts = self.dotted("table name")
        if len(parts) > 2:
            c.fail("a table is written table or schema.table")
        text = ".".join(parts)
        # "the order items table": two words naming one table
        nxt = c.peek()
        if (self.names.known and len(parts) == 1 and nxt is not None and nxt.kind == "word"
                and nxt.low not in NOT_NAMES and self.names.find_table(f"{text}_{nxt.text}") is not None):
            c.i += 1
            text = f"{text}_{nxt.text}"
        if not had_word:
            c.accept(*TABLE_WORDS)
        return self.names.table(text)

    def try_table(self) -> Optional[str]:
        """A known table here, consumed; otherwise None and nothing consumed."""
        start = self.c.i
        try:
            return self.table()
        except FluxInputError:
            self.c.i = start
            return None

    def table_ahead(self, k: int, ends: tuple[str, ...] = ()) -> bool:
        """True when a known table starts k tokens ahead and the clause then ends (or one of `ends` follows)."""
        start = self.c.i
        try:
            self.c.i += k
            if self.c.done() or self.try_table() is None:
                return False
            return self.c.done() or self.c.at(*ends) is not None if ends else self.c.done()
        finally:
            self.c.i = start

    def col_ref(self, preps: tuple[str, ...] = ("on", "of", "in", "from", "for")) -> Ref:
        """`users.email`, `users's email`, `the email column on users`, `email`, `it`."""
        c = self.c
        c.skip("the")
        c.accept(*COLUMN_WORDS)
        c.skip("the")
        if c.accept("it", "its", "that column", "this column"):
            if self.ctx.column is None:
                c.fail("'it' does not refer to a column yet")
            return Ref(self.ctx.table, self.ctx.column, resolved=True)
        parts = self.dotted("column name")
        tok = c.peek()
        if len(parts) == 1 and tok is not None and tok.kind == "poss":
            c.i += 1
            c.skip("the")
            table, column = parts[0], self.name("column name")
        elif len(parts) >= 2:
            table, column = ".".join(parts[:-1]), parts[-1]
        else:
            table, column = None, parts[0]
        c.accept(*COLUMN_WORDS)
        if table is None and c.at(*preps) and self.table_ahead(1, ends=_AFTER_TABLE):
            c.accept(*preps)
            return Ref(self.table(), column)
        if table is None and c.at(*preps):
            start = c.i
            c.accept(*preps)
            found = self.try_table()
            if found is not None:
                return Ref(found, column)
            c.i = start
        return Ref(table, column)

    def resolve(self, ref: Ref) -> tuple[str, str]:
        """(table, column) the schema knows, or a one-line error with the closest names."""
        if ref.resolved:
            return ref.table, ref.column
        if ref.table is not None:
            table = self.names.table(ref.table)
            return table, self.names.column(table, ref.column)
        if not self.names.known:
            raise FluxInputError(f"which table is {ref.column!r} on? write it as table.{ref.column}")
        hits = self.names.tables_with(ref.column)
        if len(hits) == 1:
            return hits[0], self.names.column(hits[0], ref.column)
        if hits:
            raise FluxInputError(f"column {ref.column!r} is on several tables ({', '.join(hits)}): "
                                 f"say which, e.g. {hits[0]}.{ref.column}")
        every = [f"{t}.{col}" for t, cols in self.names.tables.items() for col in cols]
        near = closest(ref.column, [e.split(".")[1] for e in every])
        did = f" (did you mean {' or '.join(e for e in every if e.split('.')[1] in near)}?)" if near else ""
        raise UnknownName(f"unknown column {ref.column!r}: no table has it{did}")

    def column(self, preps: tuple[str, ...] = ("on", "of", "in", "from", "for")) -> tuple[str, str]:
        ref = self.col_ref(preps)
        self.trailing_table(ref)
        return self.resolve(ref)

    def trailing_table(self, ref: Ref) -> Ref:
        """`... on users` at the end of a clause names the table of a bare column."""
        if ref.table is None and not ref.resolved and self.c.at("on", "of", "in", "for", "from") \
                and self.table_ahead(1):
            self.c.accept("on", "of", "in", "for", "from")
            ref.table = self.table()
        return ref

    def column_list(self, expressions_of: Optional[str] = None) -> list[str]:
        """`(a, b)`, `a, b and c`, `a and b`: names as written; in parentheses, with `expressions_of` (an
        index's table), a key may be an expression of its columns (`(lower(email))`), re-printed."""
        c = self.c
        c.skip("the")
        c.accept("columns", "fields", *COLUMN_WORDS)
        out: list[str] = []
        if c.accept("("):
            while True:
                start = c.i
                name = None if expressions_of is not None and c.at("(") else self.name("column name")
                if expressions_of is not None and c.at("("):  # a call (lower(email)) or one in parentheses
                    c.i = start
                    out.append(self.expr("index expression", lambda: c.at(",") is not None, table=expressions_of))
                elif c.at("("):
                    raise FluxInputError(f"{name}(...) is an expression: Flux constrains plain columns only "
                                         "(an index takes one: add index on users (lower(email)))")
                else:
                    out.append(name)
                if c.accept(")"):
                    break
                c.expect(",", "and")
        else:
            out.append(self.name("column name"))
            while c.at(",", "and", "&") and self._name_at(1) and not c.at(", then", "and then"):
                c.accept(",", "and", "&")
                c.accept("and")
                out.append(self.name("column name"))
        c.accept("columns", "fields", *COLUMN_WORDS)
        return out

    def _name_at(self, k: int) -> bool:
        tok = self.c.peek(k)
        if tok is not None and tok.kind == "word" and tok.low == "and":
            tok = self.c.peek(k + 1)
        return tok is not None and (tok.kind == "quoted" or (tok.kind == "word" and tok.low not in NOT_NAMES))

    # -- types ---------------------------------------------------------------

    def type(self, strict: bool, serial_ok: bool = False) -> Optional[str]:
        """A PostgreSQL type (canonical text), or None (nothing consumed) when none is here."""
        c = self.c
        start = c.i
        tok = c.peek()
        if tok is None or tok.kind not in ("word", "quoted"):
            if strict:
                c.fail("expected a type")
            return None
        c.i += 1
        if tok.kind == "word" and tok.low in _MULTI_TYPES:
            c.accept(*_MULTI_TYPES[tok.low])
        if tok.kind == "word" and c.peek() is not None and c.peek().text == "." and c.peek(1) is not None:
            c.i += 2  # schema.type
        if c.at("("):  # type modifiers: numbers only, so "bigint (using ...)" stays outside
            j = 1
            while c.peek(j) is not None and (c.peek(j).kind == "number" or c.peek(j).text == ","):
                j += 1
            if j > 1 and c.peek(j) is not None and c.peek(j).text == ")":
                c.i += j + 1
        if tok.kind == "word" and tok.low in ("timestamp", "time"):
            c.accept("with time zone", "without time zone")
        while c.accept("[ ]"):
            pass
        text = self.c.span(start, c.i)
        if tok.kind == "word" and tok.low in TYPE_ALIASES and c.i == start + 1:
            text = TYPE_ALIASES[tok.low]
        if tok.kind == "quoted":
            text = '"' + tok.text.replace('"', '""') + '"' + self.c.span(start + 1, c.i)
        try:
            if serial_ok and c.i == start + 1 and tok.kind == "word" and is_serial(text):
                return tok.low  # create table keeps serial/bigserial: they also make the sequence
            type_name(text)
            return check_type_known(text, self.names_types())
        except FluxInputError:
            c.i = start
            if strict:
                near = closest(text, sorted(self.names_types() | _COMMON_TYPES))
                did = f" (did you mean {' or '.join(near)}?)" if near else ""
                raise FluxInputError(f"unknown type {text!r}{did}") from None
            return None

    def names_types(self) -> set[str]:
        return set(self.names.enums)

    # -- expressions -----------------------------------------------------------

    def expr(self, what: str, stop: Optional[Callable[[], bool]] = None, table: Optional[str] = None,
             values_only: bool = False) -> str:
        """A SQL expression up to `stop` (checked between tokens outside brackets), re-printed."""
        c = self.c
        start, depth, case = c.i, 0, 0
        while not c.done():
            tok = c.peek()
            if depth == 0 and case == 0 and c.i > start and stop is not None and stop():
                break
            if tok.kind == "punct" and tok.text in ("(", "["):
                depth += 1
            elif tok.kind == "punct" and tok.text in (")", "]"):
                if depth == 0:
                    break
                depth -= 1
            elif tok.kind == "word" and tok.low == "case":
                case += 1
            elif tok.kind == "word" and tok.low == "end" and case:
                case -= 1
            c.i += 1
        if c.i == start:
            c.fail(f"expected {what}")
        text = self._sql_text(start, c.i)
        node = parse_expr(text, what)
        refs = sorted(column_refs(node))
        if values_only and refs:
            raise FluxInputError(f"{what} {text!r} is not a SQL value: put text in quotes, e.g. '{text}'")
        if table is not None:
            for ref in refs:
                self.names.column(table, ref)
        return render(node)

    def _sql_text(self, start: int, end: int) -> str:
        """The source text of tokens [start, end) with `backtick` names as "double-quoted" ones."""
        out, pos = [], self.c.toks[start].start
        for tok in self.c.toks[start:end]:
            out.append(self.c.src[pos:tok.start])
            if tok.kind == "quoted" and tok.quote == "`":
                out.append('"' + tok.text.replace('"', '""') + '"')
            else:
                out.append(self.c.src[tok.start:tok.end])
            pos = tok.end
        return "".join(out)

    def stop_at(self, *phrases: str, tables: tuple[str, ...] = ()) -> Callable[[], bool]:
        """A stop test: one of `phrases` here, or one of `tables` followed by a known table."""
        def test() -> bool:
            if self.c.at(*phrases):
                return True
            found = self.c.at(*tables) if tables else None
            return bool(found) and self.table_ahead(len(found.split()), ends=_AFTER_TABLE)
        return test


# What may follow a table at the end of a phrase ("... on users named x").
_AFTER_TABLE = ("named", "called", "with", "default", "not null", "nullable", "using", "where", "to", "as",
                "after", "before", "on delete", "(", "required", "optional", "backfill", "backfilled",
                "set", "by", "for", "of type", "type")
_COMMON_TYPES = {"text", "integer", "bigint", "boolean", "numeric", "uuid", "jsonb", "date", "timestamptz",
                 "timestamp", "varchar", "smallint", "real", "double precision", "json", "bytea", "interval"}


def tok_is_name(tok: Optional[Tok]) -> bool:
    return tok is not None and (tok.kind == "quoted" or (tok.kind == "word" and tok.low not in NOT_NAMES))
