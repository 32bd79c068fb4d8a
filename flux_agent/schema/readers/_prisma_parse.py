"""The Prisma schema language's tokenizer and parser: one `.prisma` file's text as its blocks
(model, view, type, enum, datasource, generator) with their fields, attributes and settings."""

from __future__ import annotations

import json
import re
from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any, Optional

from ...errors import FluxInputError

__all__ = ["TOKEN", "Attr", "Block", "Call", "Field", "Ident", "Num", "parse_prisma", "tokenize"]

# One token of the Prisma schema language per match; `//` and `///` comments run to the line end.
TOKEN = re.compile(
    r"""(?P<nl>\n)|(?P<ws>[ \t\r\f\ufeff]+)|(?P<comment>//[^\n]*)|(?P<string>"(?:[^"\\\n]|\\.)*")"""
    r"""|(?P<atat>@@)|(?P<at>@)|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<ident>[A-Za-z_]\w*)"""
    r"""|(?P<punct>[{}()\[\],:=?!.])"""
)


# Values in attribute arguments: strings are str, lists are list, the rest one of these.
Ident = namedtuple("Ident", "name")  # Cascade, USER, true
Num = namedtuple("Num", "text")  # 255, -1.5
Call = namedtuple("Call", "name args")  # now(), dbgenerated("..."), email(ops: raw("..."))
Attr = namedtuple("Attr", "name args")  # @db.VarChar(255) -> ("db.VarChar", [(None, Num("255"))])


@dataclass
class Field:
    name: str
    type: str
    line: int
    type_args: list = field(default_factory=list)
    is_list: bool = False
    optional: bool = False
    attrs: list = field(default_factory=list)


@dataclass
class Block:
    kind: str  # model view type enum datasource generator
    name: str
    file: str
    line: int
    fields: list = field(default_factory=list)
    attrs: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)


def _unquote(text: str) -> str:
    try:
        return json.loads(text)
    except ValueError:  # an escape JSON does not know: keep the character after the backslash
        return re.sub(r"\\(.)", r"\1", text[1:-1])


def tokenize(text: str, where: str) -> list[tuple[str, Any, int]]:
    out, pos, line = [], 0, 1
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None:
            bad = "unterminated string" if text[pos] == '"' else f"unexpected character {text[pos]!r}"
            raise FluxInputError(f"{where}:{line}: {bad}")
        kind, value = m.lastgroup, m.group()
        if kind not in ("ws", "comment"):
            out.append((kind, _unquote(value) if kind == "string" else value, line))
        line += kind == "nl"
        pos = m.end()
    return out + [("eof", "", line)]


class _Parser:
    def __init__(self, text: str, where: str):
        self.where, self.toks, self.pos = where, tokenize(text, where), 0

    def peek(self, kind: str, text: Optional[str] = None) -> bool:
        k, v, _ = self.toks[self.pos]
        return k == kind and (text is None or v == text)

    def take(self, kind: str, text: Optional[str] = None) -> Any:
        k, v, line = self.toks[self.pos]
        if not self.peek(kind, text):
            found = {"nl": "end of line", "eof": "end of file"}.get(k, repr(v))
            raise FluxInputError(f"{self.where}:{line}: expected {text or kind}, found {found}")
        self.pos += 1
        return v

    def maybe(self, kind: str, text: Optional[str] = None) -> bool:
        found = self.peek(kind, text)
        self.pos += found
        return found

    def skip_nl(self) -> None:
        while self.maybe("nl"):
            pass

    def blocks(self) -> list[Block]:
        out = []
        while self.skip_nl() or not self.peek("eof"):
            line = self.toks[self.pos][2]
            kw = self.take("ident")
            if kw not in ("model", "view", "type", "enum", "datasource", "generator"):
                raise FluxInputError(f"{self.where}:{line}: unknown block {kw!r}")
            block = Block(kw, self.take("ident"), self.where, line)
            self.take("punct", "{")
            while self.skip_nl() or not self.maybe("punct", "}"):
                self.member(block)
            out.append(block)
        return out

    def member(self, block: Block) -> None:
        if self.maybe("atat"):
            block.attrs.append(self.attr())
            return
        line = self.toks[self.pos][2]
        name = self.take("ident")
        if block.kind in ("datasource", "generator"):
            self.take("punct", "=")
            block.settings[name] = self.value()
            return
        f = Field(name, "" if block.kind == "enum" else self.take("ident"), line)
        if f.type:
            f.type_args = self.args() if self.peek("punct", "(") else []  # Unsupported("tsvector")
            f.is_list = self.maybe("punct", "[") and bool(self.take("punct", "]"))
            f.optional = self.maybe("punct", "?")
            self.maybe("punct", "!")  # the old required marker
        while self.maybe("at"):
            f.attrs.append(self.attr())
        if not (self.peek("nl") or self.peek("punct", "}")):
            raise FluxInputError(f"{self.where}:{line}: unexpected {self.toks[self.pos][1]!r} after {f.name}")
        block.fields.append(f)

    def dotted(self) -> str:
        name = self.take("ident")
        while self.maybe("punct", "."):
            name += "." + self.take("ident")
        return name

    def attr(self) -> Attr:
        name = self.dotted()
        return Attr(name, self.args() if self.peek("punct", "(") else [])

    def args(self) -> list:
        self.take("punct", "(")
        return self.items(")", self.arg)

    def arg(self) -> tuple:
        key = None
        if self.peek("ident") and self.toks[self.pos + 1][:2] == ("punct", ":"):
            key, self.pos = self.take("ident"), self.pos + 1
        return key, self.value()

    def items(self, close: str, item) -> list:
        """Comma-separated items up to `close`; newlines and a trailing comma are allowed."""
        out = []
        while self.skip_nl() or not self.maybe("punct", close):
            out.append(item())
            self.skip_nl()
            if not self.peek("punct", close):
                self.take("punct", ",")
        return out

    def value(self) -> Any:
        self.skip_nl()
        if self.peek("string"):
            return self.take("string")
        if self.peek("number"):
            return Num(self.take("number"))
        if self.maybe("punct", "["):
            return self.items("]", self.value)
        name = self.dotted()
        return Call(name, self.args()) if self.peek("punct", "(") else Ident(name)


def parse_prisma(text: str, where: str = "schema.prisma") -> list[Block]:
    """The blocks of one Prisma schema file."""
    return _Parser(text, where).blocks()
