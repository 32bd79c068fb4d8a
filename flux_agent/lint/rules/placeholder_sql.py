"""Template text left in SQL: [table], <column>, your_table, TODO. The seed's
examples were full of these; a migration that holds one is not finished. A TODO
in a comment is a warning: the SQL beside it may be whole (documenso's deployed
"-- Todo: orgs validate prior to release")."""

import re

import pglast

from ._rule import Rule, Verdict, flags, passes

RULE = Rule(
    id="placeholder-sql",
    severity="error",
    message="placeholder text in SQL",
    hint="name the real tables and columns; flux plan writes complete SQL from the schema",
    squawk=None,
    examples=[
        flags("ALTER TABLE your_table ADD COLUMN c text;"),
        flags("CREATE INDEX CONCURRENTLY orders_idx ON orders (<indexed_col>);"),
        flags("ALTER TABLE [table] ADD COLUMN c text;"),
        flags("-- TODO: pick the column\nALTER TABLE orders ADD COLUMN c text;", severity="warning"),
        passes("ALTER TABLE orders ADD COLUMN note text;"),
        passes("SELECT '[x]' AS literal, 'TODO' AS word;"),
        passes("ALTER TABLE \"User\" ADD COLUMN roles \"Role\"[] DEFAULT ARRAY['USER']::\"Role\"[];",
               why="an array and its element (documenso's user_roles), not a bracketed name"),
        passes("SELECT tags[i], (tags)[1], ARRAY[x] FROM t;", why="subscripts and array constructors"),
        flags("ALTER TABLE t ADD COLUMN [col] text;"),
        flags("ALTER TABLE table_name ADD COLUMN c text;"),
        passes("SELECT table_name, column_name FROM information_schema.columns;",
               why="information_schema's own column names"),
        passes("ALTER TABLE t RENAME COLUMN old_col TO new_col;", why="names a real project may use"),
        flags("SELECT 'up SQL query';", why="goose create's template, left as it wrote it"),
    ],
)

# A bracket that follows these opens a subscript or an array, not a [placeholder]; nor is a
# constant between brackets one.
_BEFORE_SUBSCRIPT = {"ARRAY", "IDENT", "ASCII_93", "ASCII_41"}
_CONSTANTS = {"SCONST", "USCONST", "ICONST", "FCONST", "BCONST", "XCONST", "PARAM"}

_NAMES = {"your_table", "your_column", "my_table", "my_column", "some_table", "some_column", "xxx", "placeholder",
          "tbd", "fixme"}
# Template names only where a table's name goes: information_schema's columns are called table_name
# and column_name, and old_col a real column (maybe-finance's trial migration).
_TABLE_NAMES = {"table_name", "column_name"}
_BEFORE_TABLE = {"TABLE", "ON", "INTO", "FROM", "UPDATE", "JOIN", "REFERENCES"}


_WORDS = ("TODO", "FIXME", "TBD")
# What a tool's `create` writes for the SQL to come (goose's template): schema/sections.TEMPLATE_SQL.
_TEMPLATE = ("'up sql query'", "'down sql query'")
_ANGLED = re.compile(r"<\s*[A-Za-z_][\w$]*\s*>")  # where a <name> may stand: the scan below decides


def _may_hold(sql: str) -> bool:
    """False when no token of `sql` can be a placeholder: a test on the text (case folding maps
    each character alone, so a token's folded text is in the folded whole) that spares most files
    the scan below."""
    if sql.count("[") != sql.count("[]") or ("<" in sql and _ANGLED.search(sql)):
        return True  # a bracket with something inside, or <name>: array types ([]) and comparisons are not
    upper = sql.upper()
    if any(w in upper for w in _WORDS):
        return True
    lower = sql.lower()
    return any(n in lower for n in _NAMES | _TABLE_NAMES) or any(t in lower for t in _TEMPLATE)


def check_text(sql, ctx, line_offset):
    if not _may_hold(sql):
        return []
    try:
        tokens = list(pglast.parser.scan(sql))
    except pglast.parser.ParseError:
        return []
    out = []

    def hit(tok, what, severity=None):
        out.append(Verdict(f"placeholder text {what} in SQL", line=sql.count("\n", 0, tok.start) + 1 + line_offset,
                           severity=severity))

    for i, tok in enumerate(tokens):
        text = sql[tok.start: tok.end + 1]
        if tok.name == "ASCII_91" and i + 2 < len(tokens) and tokens[i + 2].name == "ASCII_93" \
                and tokens[i + 1].name not in _CONSTANTS and tokens[i + 1].name != "ASCII_93" \
                and (i == 0 or tokens[i - 1].name not in _BEFORE_SUBSCRIPT):
            hit(tok, sql[tok.start: tokens[i + 2].end + 1])
        elif tok.name == "ASCII_60" and i + 2 < len(tokens) and tokens[i + 2].name == "ASCII_62" \
                and tokens[i + 1].name == "IDENT":
            hit(tok, sql[tok.start: tokens[i + 2].end + 1])
        elif tok.name == "IDENT" and (text.lower().strip('"') in _NAMES or (
                text.lower() in _TABLE_NAMES and i > 0 and tokens[i - 1].name in _BEFORE_TABLE)):
            hit(tok, repr(text))
        elif tok.name == "SCONST" and text.lower() in _TEMPLATE:
            hit(tok, f"{text} (goose's template)")
        elif tok.name in ("SQL_COMMENT", "C_COMMENT") and any(w in text.upper().split() or f"{w}:" in text.upper()
                                                              for w in _WORDS):
            hit(tok, "TODO (in a comment)", "warning")
    return out
