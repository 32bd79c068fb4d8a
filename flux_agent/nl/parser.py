"""Plain-English requests -> typed operations, deterministically (no model).

    parse_request("rename the email column on users to email_address", schema)
    -> [RenameColumn(table="users", column="email", new_name="email_address")]

A request is split into clauses at `;`, `then`, sentence ends, and at `and`
or `,` when a verb follows ("add column x to users and index it"). Each
clause starts with a verb (`add`, `rename`, `drop`, `make`, `change`, `set`,
`backfill`, `index`, `allow`, ...) or a column (`users.email should be
unique`); the verb's small grammar (nl_add.py, nl_alter.py, nl_values.py,
nl_keys.py) reads the rest with the phrases of nl_phrases.py over the tokens
of nl_lex.py. Names are resolved against the schema (nl_names.py); what
cannot be read or resolved raises FluxInputError with one line naming the
words or the unknown name. Nothing is guessed: a bare column is accepted only
when exactly one table has it.

`it` is the column (or table) of the change before. A follow-up about the
column just added is folded into its add_column ("add column score int to
users, backfill it with 0 and make it required" is one operation with
backfill and nullable=false), and "backfill nulls with X" after a set_not_null
becomes its backfill, since those are the fields the planner plans them with.
"""

from __future__ import annotations

from typing import Callable, Optional

from ..errors import FluxInputError
from ..model.operations import Operation, SetDefault
from ..model.schema import Schema
from .add import add, enum_value
from .alter import allow, drop, make, not_null_tail, rename
from .keys import foreign_key, index, key_target
from .lex import Cursor, Tok, normalize, osa, tokenize, typo_of
from .names import Names
from .phrases import TYPE_ALIASES, Context, Parser
from ..pg.types import check_type_known, type_name
from .values import backfill, change, set_
from ..pg.parse import expr
from ..pg.quote import ident

__all__ = ["parse_request"]


def _index(p: Parser) -> list:
    return [index(p)]


def _default(p: Parser) -> list:  # "default orders.status to 'new'"
    p.c.i -= 1
    return set_(p)


def _give(p: Parser) -> list:  # "give products.stock a default of 0"
    c = p.c
    ref = p.col_ref()
    c.expect("a default value of", "a default of", "the default value", "the default", "a default value",
             "a default", "default")
    c.accept("of", "value", "=")
    value = p.expr("default", p.stop_at(tables=("on", "in", "for")), values_only=True)
    p.trailing_table(ref)
    return [SetDefault(**dict(zip(("table", "column"), p.resolve(ref))), default=value)]


def _extend(p: Parser) -> list:  # "extend the payment_method enum with 'paypal'"
    c = p.c
    c.skip("the")
    c.accept("enum type", "enum", "type")
    enum = p.names.enum(".".join(p.dotted("enum name")))
    c.accept("enum type", "enum", "type")
    c.expect("with", "by")
    c.accept("value", "a new value", "the value", "a value")
    return [enum_value(p, enum)]


def _require(p: Parser) -> list:  # "require users.name (backfilling nulls with 'x')"
    ref = p.trailing_table(p.col_ref())
    return [not_null_tail(p, *p.resolve(ref))]


VERBS: dict[str, Callable[[Parser], list]] = {
    "add": add, "create": add, "introduce": add, "rename": rename, "drop": drop, "remove": drop,
    "delete": drop, "make": make, "change": change, "alter": change, "modify": change, "convert": change,
    "update": change, "switch": change, "widen": change, "mark": make, "backfill": backfill, "fill": backfill, "populate": backfill,
    "set": set_, "allow": allow, "permit": allow, "let": allow, "index": _index, "default": _default,
    "give": _give, "extend": _extend, "require": _require,
}
# Verbs that start a new clause after "and" or ",": not "default", "let", "fill" (they also
# appear inside phrases: ", default 0", "and let it be null" reads fine either way).
_SPLIT_VERBS = {"add", "create", "rename", "drop", "remove", "delete", "make", "change", "alter", "modify",
                "convert", "widen", "backfill", "populate", "set", "allow", "index", "extend", "require", "give"}
_LEAD = {"please", "pls", "kindly", "can", "could", "would", "will", "you", "we", "i", "i'd", "we'd", "want",
         "need", "needs", "like", "to", "let's", "lets", "go", "ahead", "and", "also", "then", "now", "next",
         "finally", "first", "just", "should", "must", "us", "me", "help", "hey", "ok", "okay", "so"}
_TRAIL = [tuple(t.low for t in tokenize(words)) for words in (
    "please", "thanks", "thank you", "asap", "safely", "without downtime", "with zero downtime", "with no downtime",
    "without locking the table", "without locking", "in production", "for me", "!", "?", ".", ",", "thx")]
_SUBJECT = ("should be", "must be", "needs to be", "has to be", "should become", "must become", "is to be",
            "can be", "may be", "is now", "is", "should", "must", "needs to")


def parse_request(text: str, schema: Schema | None) -> list[Operation]:
    """The operations a plain-English request asks for, in order, resolved against
    `schema` (None: names as written). Raises FluxInputError (one line) when any part
    of the request cannot be read or names something the schema does not have."""
    if not text or not text.strip():
        raise FluxInputError("empty request")
    source = normalize(text)
    names = Names(schema)
    ctx = Context()
    ops: list = []
    for toks in _clauses(tokenize(source), names):
        cur = Cursor(toks, source, names.protected())
        parser = Parser(cur, names, ctx)
        for op in _clause(parser):
            _fold(ops, op)
            names.note(op)
            _remember(ctx, op)
    if not ops:
        raise FluxInputError(f"cannot understand {text.strip()!r}: no change asked for")
    return ops


def _verb(tok: Optional[Tok], protect: set[str], verbs=VERBS) -> Optional[str]:
    if tok is None or tok.kind != "word":
        return None
    low = tok.low
    if low in verbs:
        return low
    if low in protect:
        return None
    return next((v for v in verbs if typo_of(low, v)), None)


def _clauses(toks: list[Tok], names: Names) -> list[list[Tok]]:
    protect = names.protected()
    out: list[list[Tok]] = [[]]
    depth = case = 0
    for i, tok in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if tok.kind == "punct" and tok.text in "([":
            depth += 1
        elif tok.kind == "punct" and tok.text in ")]":
            depth = max(0, depth - 1)
        elif tok.kind == "word" and tok.low == "case":
            case += 1
        elif tok.kind == "word" and tok.low == "end" and case:
            case -= 1
        if depth == 0 and case == 0:
            sentence_end = tok.kind == "punct" and tok.text in ".!?" and (nxt is None or nxt.start > tok.end)
            if tok.text == ";" and tok.kind == "punct" or sentence_end or (tok.kind == "word" and tok.low == "then"):
                out.append([])
                continue
            if tok.low in (",", "and", "&", "also", "plus") and tok.kind in ("word", "punct"):
                j = i + 1
                while j < len(toks) and toks[j].kind == "word" and toks[j].low in ("and", "also", "then", "please"):
                    j += 1
                if j < len(toks) and _verb(toks[j], protect, _SPLIT_VERBS) and not _is_list_verb(toks, j):
                    out.append([])
                    continue
        out[-1].append(tok)
    return [_trim(c) for c in out if _trim(c)]


def _is_list_verb(toks: list[Tok], j: int) -> bool:
    """`on delete set null`: a verb word inside a phrase rather than starting a clause."""
    return j >= 2 and toks[j - 1].low in ("delete",)


def _trim(toks: list[Tok]) -> list[Tok]:
    toks = list(toks)
    while toks and ((toks[0].kind == "word" and toks[0].low in _LEAD and toks[0].low not in VERBS)
                    or toks[0].kind == "poss" or (toks[0].kind == "punct" and toks[0].text in ",&")
                    or (toks[0].kind == "word" and toks[0].low == "let" and len(toks) > 1
                        and toks[1].kind == "poss")):
        toks.pop(0)
    changed = True
    while changed and toks:
        changed = False
        for words in _TRAIL:
            n = len(words)
            if len(toks) >= n and tuple(t.low for t in toks[-n:]) == words:
                del toks[-n:]
                changed = True
    return toks


def _clause(p: Parser) -> list:
    c = p.c
    if c.accept("get rid of"):
        verb = "drop"
    else:
        verb = _verb(c.peek(), c.protect)
        c.i += verb is not None
    if verb is not None:
        body = c.toks[c.i:]
        try:
            ops = VERBS[verb](p)
            if not c.done():
                c.fail()
        except FluxInputError:
            if not _anchored(body, p.names):  # not about anything in a database: say so, not what the grammar wanted
                raise _no_change(c.span(0, len(c.toks))) from None
            raise
        return ops
    # "users.email should be unique", "orders.user_id references users.id"
    start = c.i
    try:
        ref = p.col_ref()
    except FluxInputError:
        ref = None
    if ref is not None and (ref.table is not None or ref.resolved) and c.at(*_SUBJECT, "references", "reference"):
        if c.accept("references", "should reference", "must reference", "reference"):
            table, column = p.resolve(ref)
            return [foreign_key(p, src=(table, [column]), dst=key_target(p, referenced=True))]
        c.accept(*_SUBJECT)
        return make(p, ref)
    c.i = start
    raise _no_change(c.rest())


def _no_change(words: str) -> FluxInputError:
    """The one refusal for words that ask for no change Flux can recognise."""
    return FluxInputError(
        f"cannot understand {words!r} as a schema change: say what to do (add, rename, drop, make, change, set, "
        f"backfill, index or create) to which table or column, e.g. 'add column nickname text to users'")


# Words that tie a clause to a schema change, whatever its verb: what it acts on (column,
# table, index, constraint, ...), what it makes of it (required, unique, a default, ...),
# or a change before it (it, them).
_SHAPE_WORDS = set("""
column columns field fields col attribute attributes table tables model models index indexes indices key keys fk
constraint constraints check unique default defaults null nulls nullable required mandatory optional type types
enum value values references reference referencing primary foreign cascade it its them rows
""".split())


def _anchored(toks: list[Tok], names: Names) -> bool:
    """Whether the words after a clause's verb name something a schema change is about:
    a shape word, a SQL type, a quoted or dotted name, or a name the schema has (or
    nearly has: a typo should still get its did-you-mean). When none does ("make the
    database faster"), no grammar's complaint about one of its fields applies."""
    known = names.protected() | {i.lower() for i in names.indexes}
    for i, tok in enumerate(toks):
        if tok.kind == "quoted" or (tok.kind == "punct" and tok.text == "." and 0 < i < len(toks) - 1
                                    and toks[i - 1].kind == "word" and toks[i + 1].kind == "word"):
            return True
        if tok.kind != "word":
            continue
        low = tok.low
        if low in _SHAPE_WORDS or any(typo_of(low, w) for w in _SHAPE_WORDS) or _is_type(low):
            return True
        if low in known or (names.known and names.find_table(low) is not None):
            return True
        if len(low) >= 3 and any(osa(low, k) <= (2 if len(k) >= 7 else 1) for k in known if len(k) >= 4):
            return True
    return False


def _is_type(word: str) -> bool:
    try:
        check_type_known(type_name(TYPE_ALIASES.get(word, word)), set())
        return True
    except FluxInputError:
        return False


def _fold(ops: list, op) -> None:
    """Fold a follow-up about the column just added or made required into that operation."""
    prev = ops[-1] if ops else None
    same = prev is not None and getattr(prev, "table", None) == getattr(op, "table", None) and \
        getattr(prev, "column", None) == getattr(op, "column", None)
    if same and prev.op == "add_column":
        if op.op == "backfill" and prev.backfill is None and op.batch_size is None and op.where is None:
            ops[-1] = prev.model_copy(update={"backfill": op.value})
            return
        if op.op == "set_not_null" and prev.nullable:
            ops[-1] = prev.model_copy(update={"nullable": False, "backfill": prev.backfill or op.backfill})
            return
        if op.op == "set_default" and prev.default is None:
            ops[-1] = prev.model_copy(update={"default": op.default})
            return
    # "make X required and backfill nulls with 0": the value for existing NULLs
    if same and prev.op == "set_not_null" and op.op == "backfill" and prev.backfill is None \
            and op.batch_size is None and op.where in (None, expr(f"{ident(op.column)} IS NULL")):
        ops[-1] = prev.model_copy(update={"backfill": op.value})
        return
    ops.append(op)


def _remember(ctx: Context, op) -> None:
    table = getattr(op, "table", None)
    column = getattr(op, "column", None)
    if op.op in ("rename_column",):
        column = op.new_name
    if op.op == "rename_table":
        table, column = op.new_name, None
    if op.op in ("add_index", "add_unique", "add_foreign_key") and len(op.columns) == 1:
        column = op.columns[0]
    if op.op == "drop_table":
        table = column = None
    if table is not None or op.op == "drop_table":
        ctx.table, ctx.column = table, column

