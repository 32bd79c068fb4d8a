"""An identifier longer than 63 bytes: PostgreSQL cuts it to 63 bytes without an
error, so the object gets another name than the one written (and two long names
that share their first 63 bytes become the same name)."""

import pglast

from ._rule import Rule, Verdict, flags, passes

_LONG = "orders_customer_email_lower_created_at_status_partial_index_2025"  # 64 bytes

RULE = Rule(
    id="identifier-too-long",
    severity="warning",
    message="an identifier longer than 63 bytes is silently truncated by PostgreSQL",
    hint="use a name of at most 63 bytes (PostgreSQL's NAMEDATALEN - 1)",
    squawk="default",
    examples=[
        flags(f"CREATE INDEX {_LONG} ON orders (email);"),
        flags(f'ALTER TABLE orders ADD COLUMN "{_LONG.upper()}" text;', why="quoted keeps its case: 64 bytes too"),
        flags(f"CREATE INDEX i ON orders({_LONG});", why="written with no space around it"),
        flags(f"ALTER TABLE orders ADD COLUMN {'é' * 32} text;", why="32 letters, 64 bytes"),
        passes(f"CREATE INDEX {_LONG[:-2]} ON orders (email);", why="62 bytes"),
        passes(f"SELECT '{_LONG}' AS a_string_not_a_name;"),
    ],
)

LIMIT = 63


def _value(token_text: str) -> str:
    """The name a scanned identifier token stands for: quoted ones keep case, others fold to lower."""
    if token_text.startswith('"') and token_text.endswith('"'):
        return token_text[1:-1].replace('""', '"')
    return token_text.lower()


def _may_hold_one(text: str) -> bool:
    """Can the text hold a name over LIMIT bytes? Not when every piece between spaces is ASCII of at
    most LIMIT characters and there is no quote (a name is a part of one such piece); nor when every
    piece between double quotes is (a quoted name without "" in it is one such piece, an unquoted
    one a part of one). Most statements, which are then not scanned."""
    if '"' not in text:
        return any(len(w) > LIMIT or not w.isascii() for w in text.split())
    return '""' in text or any(len(p) > LIMIT or not p.isascii() for p in text.split('"'))


def check(stmt, ctx):
    if not _may_hold_one(stmt.text):
        return None
    try:
        tokens = pglast.parser.scan(stmt.text)
    except pglast.parser.ParseError:
        return None
    for tok in tokens:
        if tok.name != "IDENT":
            continue
        name = _value(stmt.text[tok.start: tok.end + 1])
        size = len(name.encode())
        if size > LIMIT:
            cut = name.encode()[:LIMIT].decode("utf-8", "ignore")
            shown = name if len(name) <= 80 else name[:77] + "..."
            return Verdict(f"{shown!r} is {size} bytes: PostgreSQL truncates it to {cut!r}")
    return None
