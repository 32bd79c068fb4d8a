"""goose cuts a migration into statements where a line ends in `;` (its last word before a `--`),
unless the statement sits between `-- +goose StatementBegin` and `-- +goose StatementEnd`. A
function or DO body whose lines end in `;` outside such a block reaches PostgreSQL in pieces,
each a syntax error: the migration fails at deploy, though the SQL itself is valid."""

from typing import Optional

import pglast

from ._rule import Rule, Verdict, flags, passes

_BODY = ("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.updated_at := now();\n"
         "  RETURN NEW;\nEND $$;")

RULE = Rule(
    id="goose-splits-statement",
    severity="error",
    message="goose cuts this statement where a line inside it ends in ';': PostgreSQL gets it in pieces and fails",
    hint="put the statement between -- +goose StatementBegin and -- +goose StatementEnd",
    squawk=None,
    examples=[
        flags(_BODY, split_at_line_ends=True),
        flags("DO $$\nBEGIN\n  UPDATE orders SET total = 0 WHERE total IS NULL;\nEND $$;", split_at_line_ends=True),
        passes(f"-- +goose StatementBegin\n{_BODY}\n-- +goose StatementEnd", split_at_line_ends=True),
        passes(_BODY, why="a tool that sends each statement as PostgreSQL's parser cuts it"),
        passes("CREATE TABLE t (\n  id bigint PRIMARY KEY,\n  note text -- the text;\n);\nALTER TABLE t ADD COLUMN c int;",
               split_at_line_ends=True, why="a ';' in a comment is no line end of goose's"),
        flags("INSERT INTO t (note) VALUES ('a;\nb');", split_at_line_ends=True,
              why="goose reads lines, not strings: a string's line ending in ';' is cut too"),
    ],
)


def _ends_statement(line: str) -> bool:
    """goose's test of a line: its last word before a word starting `--` ends in ';'."""
    last = ""
    for word in line.split():
        if word.startswith("--"):
            break
        last = word
    return last.endswith(";")


def _block(line: str) -> Optional[str]:
    words = line.split()
    if len(words) >= 3 and words[0] == "--" and words[1].lower() == "+goose":
        return {"statementbegin": "begin", "statementend": "end"}.get(words[2].lower())
    if len(words) >= 2 and words[0].lower() == "--+goose":
        return {"statementbegin": "begin", "statementend": "end"}.get(words[1].lower())
    return None


def check_text(sql, ctx, line_offset):
    if not ctx.split_at_line_ends or ";" not in sql:
        return []
    cuts, inside, at = [], False, 0
    for line in sql.split("\n"):
        block = _block(line)
        if block is not None:
            inside = block == "begin"
        elif not inside and _ends_statement(line):
            cuts.append(at + line.rstrip().rfind(";"))  # where goose ends a statement
        at += len(line) + 1
    if not cuts:
        return []
    try:
        pieces = pglast.parser.split(sql, with_parser=True, only_slices=True)
    except pglast.parser.ParseError:
        return []  # syntax-error says it
    out = []
    for piece in pieces:
        inner = [c for c in cuts if piece.start <= c < piece.stop]
        if inner:
            line = sql.count("\n", 0, inner[0]) + 1 + line_offset
            out.append(Verdict(f"goose ends a statement at line {line}, inside this one: PostgreSQL gets it in "
                               "pieces, each a syntax error", line=sql.count("\n", 0, piece.start) + 1 + line_offset))
    return out
