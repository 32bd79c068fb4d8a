"""A small TypeScript tokenizer for the schema and config files Flux edits: strings, template
literals, regular expression literals, comments and brackets understood, so no regular expression
decides structure; and the helpers that walk its tokens."""

from __future__ import annotations

__all__ = ["TsError", "cooked", "match_close", "str_value", "tokenize_ts"]


class _Tok:
    __slots__ = ("end", "kind", "start", "text")

    def __init__(self, kind: str, text: str, start: int, end: int):
        self.kind, self.text, self.start, self.end = kind, text, start, end


def _skip_string(src: str, i: int) -> int:
    """The end of the string or template literal starting at i."""
    quote, i = src[i], i + 1
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        if quote == "`" and src.startswith("${", i):
            depth, i = 1, i + 2
            while i < len(src) and depth:
                if src[i] in "'\"`":
                    i = _skip_string(src, i)
                    continue
                depth += {"{": 1, "}": -1}.get(src[i], 0)
                i += 1
            continue
        if ch == "\n" and quote != "`":
            break
        i += 1
    raise TsError("unterminated string")


class TsError(Exception):
    pass


_BEFORE_REGEX = frozenset("(,=:[!&|?{};+-*%<>~^") | {"=>"}
_KEYWORDS_BEFORE_REGEX = frozenset({"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void",
                                    "throw", "yield", "await"})


def _regex_may_start(out: list) -> bool:
    """Is a `/` here a regular expression literal (dokploy's password pattern holds a backtick)?
    Where an operand may start, as JavaScript's grammar tells it from the token before."""
    if not out:
        return True
    prev = out[-1]
    return prev.text in _BEFORE_REGEX if prev.kind == "punct" else (
        prev.kind == "ident" and prev.text in _KEYWORDS_BEFORE_REGEX)


def _skip_regex(src: str, i: int) -> int:
    """The end of the regular expression literal starting at i (its flags included)."""
    j, in_class = i + 1, False
    while j < len(src) and src[j] != "\n":
        ch = src[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            j += 1
            while j < len(src) and (src[j].isalnum() or src[j] == "_"):
                j += 1
            return j
        j += 1
    raise TsError("unterminated regular expression")


def tokenize_ts(src: str) -> list[_Tok]:
    out, i = [], 0
    while i < len(src):
        ch = src[i]
        if ch.isspace():
            i += 1
        elif src.startswith("//", i):
            end = src.find("\n", i)
            i = len(src) if end < 0 else end
        elif src.startswith("/*", i):
            end = src.find("*/", i + 2)
            if end < 0:
                raise TsError("unterminated comment")
            i = end + 2
        elif ch == "/" and _regex_may_start(out):
            end = _skip_regex(src, i)
            out.append(_Tok("regex", src[i:end], i, end))
            i = end
        elif ch in "'\"`":
            end = _skip_string(src, i)
            out.append(_Tok("str", src[i:end], i, end))
            i = end
        elif ch.isalnum() or ch in "_$":
            j = i
            while j < len(src) and (src[j].isalnum() or src[j] in "_$"):
                j += 1
            out.append(_Tok("ident", src[i:j], i, j))
            i = j
        else:
            if src.startswith("=>", i):
                out.append(_Tok("punct", "=>", i, i + 2))
                i += 2
                continue
            out.append(_Tok("punct", ch, i, i + 1))
            i += 1
    return out


def match_close(toks: list[_Tok], i: int) -> int:
    """Index of the bracket closing toks[i]."""
    pairs, depth = {"(": ")", "[": "]", "{": "}"}, []
    for j in range(i, len(toks)):
        t = toks[j].text if toks[j].kind == "punct" else ""
        if t in pairs:
            depth.append(pairs[t])
        elif t in (")", "]", "}"):
            if not depth or depth.pop() != t:
                raise TsError(f"unbalanced {t}")
            if not depth:
                return j
    raise TsError("unbalanced brackets")


def str_value(tok: _Tok) -> str | None:
    if tok.kind != "str" or tok.text[0] == "`" and "${" in tok.text:
        return None
    return tok.text[1:-1]



_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def cooked(tok: _Tok) -> str | None:
    """The value of a string or template literal token, its escapes decoded as JavaScript does (a
    formatter or a linter may requote a string: its value must stay); None for a template with a
    substitution, or an escape that does not read."""
    if tok.kind != "str":
        return None
    body, template = tok.text[1:-1], tok.text[0] == "`"
    out, i = [], 0
    try:
        while i < len(body):
            ch = body[i]
            if ch == "\\":
                nxt = body[i + 1: i + 2]
                if nxt == "x":
                    out.append(chr(int(body[i + 2: i + 4], 16)))
                    i += 4
                elif nxt == "u" and body[i + 2: i + 3] == "{":
                    end = body.index("}", i)
                    out.append(chr(int(body[i + 3: end], 16)))
                    i = end + 1
                elif nxt == "u":
                    out.append(chr(int(body[i + 2: i + 6], 16)))
                    i += 6
                elif nxt in ("\n", "\r", "\u2028", "\u2029"):  # a line continuation: nothing
                    i += 3 if body[i + 1: i + 3] == "\r\n" else 2
                else:
                    out.append(_ESCAPES.get(nxt, nxt))
                    i += 2
            elif template and body.startswith("${", i):
                return None
            elif template and ch == "\r":  # a template's CRLF and CR are LF in its value
                out.append("\n")
                i += 2 if body[i + 1: i + 2] == "\n" else 1
            else:
                out.append(ch)
                i += 1
    except ValueError:
        return None
    return "".join(out)
