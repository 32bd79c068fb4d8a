"""The Ruby subset that Rails writes and reads: a scanner and parser for method calls with
positional and keyword arguments, strings, symbols, numbers, arrays, hashes, `-> { "sql" }`
lambdas, heredocs and `do |t| ... end` blocks (db/schema.rb, and the migration DSL of
db/migrate/*.rb, which lint/readers/rails.py reads), ActiveSupport's singularize, and the
PostgreSQL types ActiveRecord makes of Rails types. Ruby is never run.

`tokens(text, lenient=True)` also passes through what the subset has no place for (operators,
`@ivars`, `%w[]`, ...) as `other` tokens, so a reader can step over Ruby it does not read and say
so; the default is strict, as db/schema.rb never holds such things."""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Optional

from ...errors import FluxInputError
from ...pg.types import type_name

# --------------------------------------------------------------------------
# Scanner and parser for the Ruby subset
# --------------------------------------------------------------------------


class Sym(str):
    """A Ruby symbol (`:cascade`); a plain str is a Ruby string."""


class Interp(str):
    """A Ruby string with `#{...}` interpolation: its text is known only when Ruby runs."""


@dataclass
class Num:
    text: str  # as written, so that defaults keep their spelling

    def __int__(self) -> int:
        return int(float(self.text.replace("_", "")))


@dataclass
class Lam:
    body: Any  # -> { "now()" }


@dataclass
class Call:
    name: str
    line: int
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    block: Optional[list] = None
    index: Any = None  # Schema[7.2]
    rockets: bool = False  # `:key => value` arguments: a pre-Rails-4 dumper
    then: tuple = ()  # methods called on its result: X.new(...).to_sql is X.new with then ("to_sql",)


_TOKEN = re.compile(
    r"""(?P<nl>\n)|(?P<space>[ \t\r\f]+|\\\r?\n)|(?P<comment>\#[^\n]*)
    |(?P<heredoc><<(?P<hflag>[-~]?)(?P<hq>['"]?)(?P<htag>[A-Za-z_]\w*)(?P=hq))
    |(?P<words>%[wWiI](?:\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|<[^>]*>))
    |(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<label>[A-Za-z_]\w*[?!]?:(?!:))
    |(?P<sym>:(?:[A-Za-z_]\w*[?!=]?|"(?:[^"\\]|\\.)*"))
    |(?P<num>-?\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][-+]?\d+)?)
    |(?P<name>[A-Za-z_]\w*[?!]?)
    |(?P<op>::|=>|->|[()\[\]{},.|=-])""",
    re.X | re.S,
)
_OTHER = re.compile(r"(?P<nl>;)|(?P<space>\s)|(?P<other>.)")  # lenient: any other character is a token of its own
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "e": "\x1b", "s": " ", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _unescape(body: str) -> str:
    def one(m: re.Match) -> str:
        e = m.group(1)
        if e.startswith("u{"):
            return "".join(chr(int(h, 16)) for h in e[2:-1].split())
        if e[0] in "ux" and len(e) > 1:
            return chr(int(e[1:], 16))
        return _ESCAPES.get(e, e)

    return re.sub(r"\\(u\{[0-9a-fA-F ]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{1,2}|.)", one, body, flags=re.S)


def _string(tok: str) -> str:
    if tok[0] == "'":
        return re.sub(r"\\([\\'])", r"\1", tok[1:-1])
    return _unescape(tok[1:-1])


# An interpolation of a string literal alone (`#{' '}`, which RuboCop's trailing-whitespace fix
# writes into heredocs; maybe-finance's) is that text: known before Ruby runs.
_LITERAL = re.compile(r"""#\{\s*(?:'([^'\\]*)'|"([^"\\#]*)")\s*\}""")


def _cooked(value: str) -> str:
    """A double-quoted string's value: Interp where it interpolates Ruby, literals folded in."""
    if "#{" not in value:
        return value
    value = _LITERAL.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), value)
    return Interp(value) if "#{" in value else value


def tokens(text: str, lenient: bool = False) -> list[tuple[str, Any, int, bool]]:
    """(kind, value, line, whether space came before): `t.index [...]` is a call, `Schema[7.2]` an index."""
    out: list[tuple[str, Any, int, bool]] = []
    pending: list[tuple[int, str, str, bool]] = []  # heredocs whose bodies start on the next line
    pos, line, spaced = 0, 1, False
    while pos < len(text):
        m = _TOKEN.match(text, pos) or (_OTHER.match(text, pos) if lenient else None)
        if m is None:
            raise FluxInputError(f"cannot read Ruby schema (line {line}): unexpected {text[pos]!r}")
        kind, tok = m.lastgroup, m.group(0)
        if kind in ("hflag", "hq", "htag"):
            kind = "heredoc"
        pos = m.end()
        if kind == "heredoc":
            pending.append((len(out), m.group("htag"), m.group("hflag"), m.group("hq") != "'"))
            out.append(("str", "", line, spaced))
        elif kind == "str":
            value = _string(tok)
            out.append(("str", _cooked(value) if tok[0] == '"' else value, line, spaced))
        elif kind == "words":  # %w[a b] / %i[a b]: the array of strings or symbols it stands for
            make = Sym if tok[1] in "iI" else str
            out.append(("op", "[", line, spaced))
            for n, word in enumerate(tok[3:-1].split()):
                out += [("op", ",", line, True)] * (n > 0) + [("sym" if make is Sym else "str", make(word), line, True)]
            out.append(("op", "]", line, False))
        elif kind == "sym":
            out.append(("sym", Sym(_string(tok[1:]) if tok[1] == '"' else tok[1:]), line, spaced))
        elif kind not in ("space", "comment"):
            out.append((kind, tok, line, spaced))
        spaced = kind in ("space", "comment", "nl")
        line += tok.count("\n")
        if kind == "nl" and pending:
            for at, tag, flag, cooked in pending:
                body: list[str] = []
                while True:
                    end = text.find("\n", pos)
                    row = text[pos : len(text) if end < 0 else end]
                    pos, line = (len(text) if end < 0 else end + 1), line + 1
                    if (row.strip() if flag else row) == tag or end < 0:
                        break
                    body.append(row)
                value = "\n".join(body) + "\n"
                value = textwrap.dedent(value) if flag == "~" else value
                value = _unescape(value) if cooked else value
                out[at] = ("str", _cooked(value) if cooked else value, *out[at][2:])
            pending = []
    out.append(("eof", None, line, True))
    return out


class Parser:
    def __init__(self, toks: list):
        self.toks, self.i = toks, 0

    def peek(self) -> tuple:
        return self.toks[self.i]

    def at(self, kind: str, value: Any = None) -> bool:
        k, v = self.toks[self.i][:2]
        return k == kind and (value is None or v == value)

    def take(self, kind: str, value: Any = None) -> tuple:
        if not self.at(kind, value):
            _, v, line, _ = self.peek()
            raise FluxInputError(f"cannot read Ruby schema (line {line}): expected {value or kind}, found {v!r}")
        self.i += 1
        return self.toks[self.i - 1]

    def skip_nl(self) -> None:
        while self.at("nl"):
            self.i += 1

    def statements(self, inside: bool) -> list[Call]:
        out = []
        while True:
            self.skip_nl()
            if self.at("eof") and not inside:
                return out
            if self.at("name", "end") and inside:
                self.i += 1
                return out
            out.append(self.statement())

    def with_arguments(self, call: Call) -> Call:
        """`call` with its arguments: in parentheses right after its name, or bare to the line's end."""
        if self.at("op", "(") and not self.peek()[3]:
            self.i += 1
            self.arguments(call, ")")
        elif self.starts_value():
            self.arguments(call, None)
        return call

    def statement(self) -> Call:
        call = self.with_arguments(self.chain())
        if self.at("name", "do"):
            self.i += 1
            if self.at("op", "|"):
                self.i += 1
                while not self.at("op", "|"):
                    self.take("name") if self.at("name") else self.take("op", ",")
                self.i += 1
            call.block = self.statements(inside=True)
        if not (self.at("nl") or self.at("eof") or self.at("name", "end")):
            self.take("nl")  # raises: something after a complete call
        return call

    def chain(self) -> Call:
        _, name, line, _ = self.take("name")
        call = Call(name=name, line=line)
        while self.at("op", "::") or self.at("op", ".") or (self.at("op", "[") and not self.peek()[3]):
            op = self.take("op")[1]
            if op == "[":
                call.index = self.value()
                self.take("op", "]")
            else:
                call.name += op + self.take("name")[1]
        return call

    def starts_value(self) -> bool:
        kind, v = self.peek()[:2]
        if kind in ("str", "sym", "num", "label"):
            return True
        return (kind == "name" and v in ("true", "false", "nil")) or (kind == "op" and v in ("[", "->", "-"))

    def arguments(self, call: Call, close: Optional[str]) -> None:
        while True:
            if close:
                self.skip_nl()
                if self.at("op", close):
                    break
            if self.at("label"):
                key = self.take("label")[1][:-1]
                call.kwargs[key] = self.value()
            else:
                v = self.value()
                if self.at("op", "=>"):
                    self.i += 1
                    call.kwargs[str(v)], call.rockets = self.value(), True
                else:
                    call.args.append(v)
            if not self.at("op", ","):
                break
            self.i += 1
            self.skip_nl()
        if close:
            self.skip_nl()
            self.take("op", close)

    def value(self) -> Any:
        kind, v, line, _ = self.peek()
        if kind in ("str", "sym", "num"):
            self.i += 1
            while kind == "str" and self.at("str"):  # "a" "b", "a" \ "b": Ruby joins adjacent literals
                more = self.take("str")[1]
                v = (Interp if isinstance(v, Interp) or isinstance(more, Interp) else str)(v + more)
            while kind == "str" and self.at("op", ".") and self.toks[self.i + 1][0] == "name":
                self.i += 2  # <<~SQL.squish, "...".freeze: the text is what matters
            return Num(v) if kind == "num" else v
        if kind == "name":
            if v in ("true", "false", "nil"):
                self.i += 1
                return {"true": True, "false": False, "nil": None}[v]
            call = self.chain()  # e.g. BigDecimal("1.5"): kept as an opaque call
            if self.at("op", "("):
                self.i += 1
                self.arguments(call, ")")
                while self.at("op", ".") and self.toks[self.i + 1][0] == "name":
                    self.i += 1
                    call.then += (self.take("name")[1],)
                    if self.at("op", "(") and not self.peek()[3]:  # its own arguments: not kept
                        self.i += 1
                        self.arguments(Call(name="", line=line), ")")
            return call
        if kind == "op" and v == "-":
            self.i += 1
            return Num("-" + self.take("num")[1])
        if kind == "op" and v == "[":
            self.i += 1
            items = []
            while not (self.skip_nl() or self.at("op", "]")):
                items.append(self.value())
                self.skip_nl()
                if not self.at("op", "]"):
                    self.take("op", ",")
            self.i += 1
            return items
        if kind == "op" and v == "{":
            self.i += 1
            hold = Call(name="{}", line=line)
            self.arguments(hold, "}")
            return hold.kwargs
        if kind == "op" and v == "->":
            self.i += 1
            if self.at("op", "("):
                self.take("op", "(")
                self.take("op", ")")
            self.take("op", "{")
            self.skip_nl()
            body = self.value()
            self.skip_nl()
            self.take("op", "}")
            return Lam(body)
        raise FluxInputError(f"cannot read Ruby schema (line {line}): unexpected {v!r}")


# --------------------------------------------------------------------------
# ActiveSupport's singularize (foreign key columns: "families" -> family_id)
# --------------------------------------------------------------------------

_SINGULARS = [
    (r"s$", ""), (r"(ss)$", r"\1"), (r"(n)ews$", r"\1ews"), (r"([ti])a$", r"\1um"),
    (r"((a)naly|(b)a|(d)iagno|(p)arenthe|(p)rogno|(s)ynop|(t)he)(sis|ses)$", r"\1sis"),
    (r"(^analy)(sis|ses)$", r"\1sis"), (r"([^f])ves$", r"\1fe"), (r"(hive)s$", r"\1"), (r"(tive)s$", r"\1"),
    (r"([lr])ves$", r"\1f"), (r"([^aeiouy]|qu)ies$", r"\1y"), (r"(s)eries$", r"\1eries"),
    (r"(m)ovies$", r"\1ovie"), (r"(x|ch|ss|sh)es$", r"\1"), (r"^(m|l)ice$", r"\1ouse"), (r"(bus)(es)?$", r"\1"),
    (r"(o)es$", r"\1"), (r"(shoe)s$", r"\1"), (r"(cris|test)(is|es)$", r"\1is"), (r"^(a)x[ie]s$", r"\1xis"),
    (r"(octop|vir)(us|i)$", r"\1us"), (r"(alias|status)(es)?$", r"\1"), (r"^(ox)en", r"\1"),
    (r"(vert|ind)ices$", r"\1ex"), (r"(matr)ices$", r"\1ix"), (r"(quiz)zes$", r"\1"), (r"(database)s$", r"\1"),
]
for _s, _p in (("person", "people"), ("man", "men"), ("child", "children"), ("sex", "sexes"), ("move", "moves"), ("zombie", "zombies")):
    _SINGULARS += [(f"({_s[0]}){_s[1:]}$", r"\1" + _s[1:]), (f"({_p[0]}){_p[1:]}$", r"\1" + _s[1:])]
_UNCOUNTABLE = re.compile(r"\b(equipment|information|rice|money|species|series|fish|sheep|jeans|police)$", re.I)


def singularize(word: str) -> str:
    if not word or _UNCOUNTABLE.search(word):
        return word
    for rule, repl in reversed(_SINGULARS):  # the rule defined last wins, as in ActiveSupport
        out, n = re.subn(rule, repl, word, count=1, flags=re.I)
        if n:
            return out
    return word


def pluralize(word: str) -> str:  # only for t.references ... foreign_key: true
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    return word[:-1] + "ies" if re.search(r"[^aeiou]y$", word) else word + "s"


def sha10(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


# --------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------

_SAME = {"text", "bigint", "boolean", "date", "json", "jsonb", "uuid", "inet", "cidr", "macaddr", "citext", "hstore",
         "xml", "tsvector", "money", "oid", "ltree", "point", "line", "lseg", "box", "path", "polygon", "circle",
         "interval", "daterange", "numrange", "tsrange", "tstzrange", "int4range", "int8range", "smallint"}
_RENAMED = {"binary": "bytea", "blob": "bytea", "serial": "integer", "bigserial": "bigint", "primary_key": "bigint"}


def rails_type(kind: str, o: dict, precision6: bool = True, varchar255: bool = False) -> str:
    """The PostgreSQL type ActiveRecord's adapter makes of a Rails type and its limit/precision/scale options:
    `precision6`, datetimes default to precision 6 (Rails >= 7.0); `varchar255`, a bare string is
    varchar(255) (before Rails 4.2)."""
    limit = int(o["limit"]) if isinstance(o.get("limit"), Num) else None
    prec = int(o["precision"]) if isinstance(o.get("precision"), Num) else None
    scale = int(o["scale"]) if isinstance(o.get("scale"), Num) else None
    if kind == "string":
        limit = limit or (255 if varchar255 else None)
        return f"character varying({limit})" if limit else "character varying"
    if kind == "integer":
        return "smallint" if limit in (1, 2) else "bigint" if limit and limit > 4 else "integer"
    if kind == "float":
        return "real" if limit and limit <= 24 else "double precision"
    if kind in ("decimal", "numeric"):
        return f"numeric({prec},{scale})" if prec and scale is not None else f"numeric({prec})" if prec else "numeric"
    if kind in ("datetime", "timestamp", "timestamptz", "time"):
        if "precision" not in o and kind in ("datetime", "timestamp") and precision6:
            prec = 6
        head = "time" if kind == "time" else "timestamp"
        zone = "with" if kind == "timestamptz" else "without"
        return f"{head}({prec}) {zone} time zone" if prec is not None else f"{head} {zone} time zone"
    if kind in ("bit", "bit_varying"):
        base = "bit varying" if kind == "bit_varying" else "bit"
        return f"{base}({limit})" if limit else base
    if kind in _SAME or kind in _RENAMED:
        return _RENAMED.get(kind, kind)
    return type_name(kind)  # an extension's type (geometry, vector, ...) or a type given as SQL
