"""The lenient scan of a Rails migration (lint/readers/rails.py): the migration DSL's calls
parsed where they are, every other statement of Ruby stepped over as an Opaque at its line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ...errors import FluxInputError
from ...schema.readers._ruby import Call, Parser

__all__ = ["Lenient", "Opaque"]

_BLOCK_KEYWORDS = {"if", "unless", "while", "until", "case", "begin", "for", "module"}


@dataclass
class Opaque:
    """A statement that is not a DSL call the parser reads (Ruby logic, an assignment, ...)."""

    line: int
    head: str = ""  # its first word (a model class when capitalised)


class Lenient(Parser):
    """The schema.rb parser made lenient: a statement it cannot read becomes an Opaque instead
    of stopping the scan."""

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
            self.guard(call)
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

    # `enable_extension "x" unless extension_enabled?("x")` (maybe-finance's first migration), and
    # `disable_extension "x" if extension_enabled?("x")`: the condition says what Rails' own SQL says
    # already (IF NOT EXISTS, IF EXISTS), so the call is read as it stands.
    _GUARDS = {"enable_extension": "unless", "disable_extension": "if"}

    def guard(self, call: Call) -> None:
        """Step over a modifier after `call` that only repeats what its SQL does (_GUARDS)."""
        word = self._GUARDS.get(call.name)
        if word is None or not self.at("name", word):
            return
        start = self.i
        self.i += 1
        try:
            cond = self.with_arguments(self.chain())
            if cond.name == "extension_enabled?" and [str(a) for a in cond.args] == [str(a) for a in call.args[:1]]:
                return
        except (FluxInputError, IndexError):
            pass
        self.i = start  # any other condition: Ruby logic, as before

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
