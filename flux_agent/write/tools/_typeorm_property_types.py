"""The TypeScript type an entity's property declares, kept saying what TypeORM gives for its column:
`| null` where the column may hold NULL, and the plain type of a changed column's new type (a bigint
comes as a string)."""

from __future__ import annotations

from typing import Optional

from ...project.ts_tokens import match_close
from ._typeorm_entity_file import EntityFile
from ._typeorm_entity_ts import column_decorators


def _declared_type(toks, member) -> Optional[tuple[int, int, list[int]]]:
    """The property's declared type: its first and end token, and the cuts around each part of its
    union (`|` at the top, and the tokens just outside the type); None without a type, or for `?`."""
    i = member.name_tok + 1
    if i <= member.last and toks[i].text == "?":
        return None
    i += i <= member.last and toks[i].text == "!"
    if i > member.last or toks[i].text != ":":
        return None
    start = end = i + 1  # up to `;` or `=` outside brackets
    depth, bars = 0, []
    while end <= member.last and not (depth == 0 and toks[end].text in (";", "=")):
        text = toks[end].text
        if text in ("(", "[", "{"):
            end = match_close(toks, end) + 1
            continue
        depth += {"<": 1, ">": -1}.get(text, 0)
        if text == "|" and depth == 0:
            bars.append(end)
        end += 1
    return (start, end, [start - 1] + bars + [end]) if end > start else None


def type_says_null(ef: EntityFile, table: str, column: str, nullable: bool) -> None:
    """The property's declared type says `| null` exactly where the column may hold NULL (TypeORM reads
    NULL as null: `age!: number` on a nullable column would promise a number it may not get). A property
    without a declared type, with `?`, or initialised to null is left as it is."""
    toks, _, found = ef.mapped(table, column)
    member = found[0][0]
    declared = _declared_type(toks, member)
    if declared is None:
        return
    start, end, cuts = declared
    nulls = [n for n in range(len(cuts) - 1) if cuts[n + 1] - cuts[n] == 2 and toks[cuts[n] + 1].text == "null"]
    initialised_null = end + 1 <= member.last and toks[end].text == "=" and toks[end + 1].text == "null"
    if nullable and not nulls:
        ef.splice(toks[end - 1].end, toks[end - 1].end, " | null")
    elif not nullable and nulls and len(cuts) > 2 and not initialised_null:
        n = nulls[0]
        if n > 0:  # `T | null`: from the end of the part before to the end of null
            ef.splice(toks[cuts[n] - 1].end, toks[cuts[n] + 1].end, "")
        else:  # `null | T`
            ef.splice(toks[start].start, toks[cuts[1] + 1].start, "")


_PLAIN_TS = frozenset({"number", "string", "boolean", "Date"})


def type_says_what_typeorm_gives(ef: EntityFile, table: str, column: str, ts: str) -> None:
    """After a type change, a property declared as the plain type TypeORM gave for the old one (number,
    string, boolean, Date) says the one it gives for the new (a bigint or numeric column comes as a
    string); a property of its own type, or with a transformer, is left to its author."""
    toks, _, found = ef.mapped(table, column)
    if ts not in _PLAIN_TS or any("transformer" in d.options(toks) for _, d in column_decorators(found)):
        return
    declared = _declared_type(toks, found[0][0])
    if declared is None:
        return
    _, _, cuts = declared
    parts = [(cuts[n] + 1, cuts[n + 1]) for n in range(len(cuts) - 1)]
    plain = [(a, b) for a, b in parts if b - a == 1 and toks[a].text != "null"]
    if len(plain) == 1 and len(parts) - len(plain) <= 1 and toks[plain[0][0]].text in _PLAIN_TS \
            and toks[plain[0][0]].text != ts:
        ef.splice(toks[plain[0][0]].start, toks[plain[0][0]].end, ts)
