"""Tokens and a cursor for nl.py. A request is English, not SQL: words,
quoted names ("...", `...`, '...'), numbers and punctuation, each keeping its
place in the text so an expression can be cut out of the request verbatim and
handed to the SQL parser.

Keywords match with one typo (Damerau-Levenshtein distance 1) when they are
five letters or longer, and with one swapped pair of letters when four; a word
that is a name in the schema never matches a keyword by typo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from ..errors import FluxInputError

# Every word the grammar reads as a keyword. A token equal to one of these
# never matches a different keyword by typo ("columns" is not "column" misspelt).
KEYWORDS = set("""
a add after all allow alter an and as attribute backfill backfilled backfilling batch batches be before by
called can cannot can't cascade change check col column columns constraint convert create data default
defaulting defaults delete drop each enum existing extend field fields fill filling fk for foreign from
get give has have in index indexes indices into is it its key let make mandatory model modify must
name named new no non not null nullable nulls of on optional partial permit please populate primary
references referencing reference remove rename required require restrict rows set should table tables the
them then to type unique update using value values varying when where which with without zone
""".split())

_WORD = re.compile(r"[^\W\d]\w*(?:\$\w*)*", re.UNICODE)
_CONTRACTION = re.compile(r"'(?:t|d|ll|m|re|ve)(?!\w)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PUNCT = ("->", ">=", "<=", "<>", "!=", "::", "||", "(", ")", "[", "]", ",", ";", ".", "=", "<", ">",
          "+", "-", "*", "/", "%", ":", "&", "!", "?", "|", "^", "~", "#", "@")
_SMART = str.maketrans({"\u2192": "->", "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'",
                        "\u2013": "-", "\u2014": "-"})


@dataclass(frozen=True)
class Tok:
    kind: str  # word | quoted | number | punct | poss
    text: str  # the word as written, a quoted name's content, or the punctuation
    start: int
    end: int
    quote: str = ""

    @property
    def low(self) -> str:
        return self.text.lower() if self.kind == "word" else self.text


def normalize(text: str) -> str:
    return text.translate(_SMART)


def tokenize(text: str) -> list[Tok]:
    """Tokens of a request (already normalized). Raises on an unterminated quote."""
    toks: list[Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "\"`":
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise FluxInputError(f"unterminated quote in the request: {text[i:i + 30]}")
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:  # doubled quote inside the name
                        buf.append(ch)
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            toks.append(Tok("quoted", "".join(buf), i, j + 1, ch))
            i = j + 1
            continue
        if ch == "'":
            prev_word = i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")
            nxt = text[i + 1] if i + 1 < n else ""
            after = text[i + 2] if i + 2 < n else ""
            if prev_word and nxt in "sS" and not (after.isalnum() or after == "_"):
                toks.append(Tok("poss", "'s", i, i + 2))  # users's / user's
                i += 2
                continue
            if prev_word and text[i - 1] in "sS" and not (nxt.isalnum() or nxt == "_"):
                toks.append(Tok("poss", "'", i, i + 1))  # users' email
                i += 1
                continue
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise FluxInputError(f"unterminated quote in the request: {text[i:i + 30]}")
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        buf.append("'")
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            toks.append(Tok("quoted", "".join(buf), i, j + 1, "'"))
            i = j + 1
            continue
        m = _WORD.match(text, i)
        if m:
            end = m.end()
            tail = _CONTRACTION.match(text, end)
            if tail:
                end = tail.end()  # can't, I'd, we'll
            toks.append(Tok("word", text[i:end], i, end))
            i = end
            continue
        m = _NUMBER.match(text, i)
        if m:
            toks.append(Tok("number", m.group(), i, m.end()))
            i = m.end()
            continue
        for p in _PUNCT:
            if text.startswith(p, i):
                toks.append(Tok("punct", p, i, i + len(p)))
                i += len(p)
                break
        else:
            raise FluxInputError(f"cannot understand the character {ch!r} in the request")
    return toks


def osa(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent swaps)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def typo_of(word: str, keyword: str) -> bool:
    """True when `word` is `keyword` with one typo (never for short keywords)."""
    if word == keyword or len(word) < 3 or word in KEYWORDS:
        return False
    if len(keyword) >= 5:
        return osa(word, keyword) <= 1
    if len(keyword) == 4 and len(word) == 4 and sorted(word) == sorted(keyword):
        return osa(word, keyword) == 1  # one swapped pair: "dorp"
    return False


@lru_cache(maxsize=None)
def phrase(text: str) -> tuple[str, ...]:
    """A keyword phrase as token texts: "non-null" -> ("non", "-", "null")."""
    return tuple(t.low for t in tokenize(text))


class Cursor:
    """A position in one clause's tokens, with keyword matching."""

    def __init__(self, toks: list[Tok], source: str, protect: set[str]):
        self.toks = toks
        self.src = source
        self.protect = protect  # lower-case schema names: never typo-matched to keywords
        self.i = 0

    def peek(self, k: int = 0) -> Optional[Tok]:
        j = self.i + k
        return self.toks[j] if 0 <= j < len(self.toks) else None

    def kind(self, k: int = 0) -> str:
        """The kind of the token k ahead, "" past the end."""
        tok = self.peek(k)
        return tok.kind if tok is not None else ""

    def done(self) -> bool:
        return self.i >= len(self.toks)

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            self.fail("the request ends too early")
        self.i += 1
        return tok

    def is_kw(self, tok: Optional[Tok], word: str) -> bool:
        if tok is None:
            return False
        if tok.kind != "word":
            return tok.kind in ("punct", "poss") and tok.text == word
        low = tok.low
        return low == word or (low not in self.protect and typo_of(low, word))

    def at(self, *phrases: str, k: int = 0) -> Optional[str]:
        """The first phrase that starts `k` tokens ahead (not consumed). A phrase followed by a dot is
        not it but a table's name: documenso's model `Field` in "change Field.page to bigint"."""
        for text in phrases:
            words = phrase(text)
            if all(self.is_kw(self.peek(k + n), w) for n, w in enumerate(words)):
                after = self.peek(k + len(words))
                if after is not None and after.kind == "punct" and after.text == "." and words[-1].isalpha():
                    continue
                return text
        return None

    def accept(self, *phrases: str) -> Optional[str]:
        found = self.at(*phrases)
        if found is not None:
            self.i += len(phrase(found))
        return found

    def expect(self, *phrases: str) -> str:
        found = self.accept(*phrases)
        if found is None:
            self.fail(f"expected {' or '.join(repr(p) for p in phrases)}")
        return found

    def skip(self, *phrases: str) -> None:
        while self.accept(*phrases):
            pass

    def span(self, start: int, end: int) -> str:
        """Source text of tokens [start, end)."""
        if start >= end:
            return ""
        return self.src[self.toks[start].start:self.toks[end - 1].end]

    def rest(self) -> str:
        return self.span(self.i, len(self.toks))

    def fail(self, why: str = "") -> None:
        clause = self.span(0, len(self.toks))
        if self.done():
            raise FluxInputError(f"cannot understand {clause!r}: {why or 'it ends too early'}")
        words = self.rest()
        words = words if len(words) <= 40 else words[:40] + "..."
        hint = f" ({why})" if why else ""
        raise FluxInputError(f"cannot understand {words!r} in {clause!r}{hint}")
