"""goose refuses a migration whose Up section ends in SQL no `;` closes ("missing semicolon") or
whose `-- +goose StatementBegin` has no StatementEnd: `goose up` stops there, with this migration
and every later one unapplied, though PostgreSQL would take the SQL. Read as goose's own parser
reads the lines (pressly/goose internal/sqlparser): comments and empty lines before a statement
are skipped, a line whose last word before a `--` ends in `;` ends the statement outside a block."""

from ._rule import Rule, Verdict, flags, passes
from .goose_splits_statement import _block, _ends_statement

RULE = Rule(
    id="goose-refuses-file",
    severity="error",
    message="goose refuses this migration: `goose up` stops here, this migration and every later one unapplied",
    hint="end the statement with ';' on its last line, and close each -- +goose StatementBegin with "
         "-- +goose StatementEnd",
    squawk=None,
    examples=[
        flags("ALTER TABLE accounts ADD COLUMN nick text\n", split_at_line_ends=True),
        flags("-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n",
              split_at_line_ends=True),
        passes("ALTER TABLE accounts ADD COLUMN nick text;\n-- a comment after it\n\n", split_at_line_ends=True),
        passes("-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$\n"
               "-- +goose StatementEnd\n", split_at_line_ends=True,
               why="StatementEnd ends the statement, ';' or not"),
        passes("ALTER TABLE accounts ADD COLUMN nick text", why="a tool that takes the file as PostgreSQL's parser cuts it"),
    ],
)


def _refusal(sql: str):
    """(line index, what goose says) where goose refuses the section, else None."""
    buffer: list[str] = []
    start, block = 0, None
    for i, line in enumerate(sql.split("\n")):
        kind = _block(line)
        if kind == "begin":
            block = i
            continue
        if kind == "end":
            if block is not None:
                buffer, block = [], None  # the block's statement, whatever its last character
            continue
        stripped = line.strip()
        if stripped.startswith("--") and "+goose" in stripped.lower():
            continue  # another annotation (NO TRANSACTION, ENVSUB)
        if not buffer and (stripped.startswith("--") or line == ""):
            continue  # goose skips these before a statement
        if not buffer:
            start = i
        buffer.append(line)
        if block is None and _ends_statement(line):
            buffer = []
    if block is not None:
        return block, "its -- +goose StatementBegin has no StatementEnd"
    if "".join(buffer).strip():
        return start, "no ';' ends this statement's last line (goose: missing semicolon)"
    return None


def check_text(sql, ctx, line_offset):
    if not ctx.split_at_line_ends:
        return []
    found = _refusal(sql)
    if found is None:
        return []
    index, why = found
    return [Verdict(f"goose refuses this migration: {why}; `goose up` stops here, this migration and every later "
                    "one unapplied", line=index + 1 + line_offset)]
