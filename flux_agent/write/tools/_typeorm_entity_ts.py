"""A TypeORM entity file read and edited as text: its classes whose @Entity decorator names a table,
their decorators (@Column and its kin, @JoinColumn, @Index, @Unique) and properties found by the
small tokenizer of project/ts_tokens.py (no regular expression decides structure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ...project.ts_tokens import TsError, _Tok, match_close, str_value, tokenize_ts

# The decorators that map a property to a column (a relation's column is its @JoinColumn's), and a
# project's own wrappers of them (ever-gauzy's @MultiORMColumn): a name ending so, but these.
COLUMN_DECORATORS = frozenset({"Column", "PrimaryColumn", "PrimaryGeneratedColumn", "CreateDateColumn",
                               "UpdateDateColumn", "DeleteDateColumn", "VersionColumn"})
_NOT_COLUMNS = frozenset({"JoinColumn", "ViewColumn", "ObjectIdColumn", "TreeLevelColumn", "InverseJoinColumn"})
# Entity decorators that map no table of their own: a view, a single-table inheritance child (its
# columns are its parent's table's).
_NOT_TABLES = frozenset({"ViewEntity", "ChildEntity"})


def is_column_decorator(name: str) -> bool:
    return name in COLUMN_DECORATORS or (name.endswith("Column") and name not in _NOT_COLUMNS
                                         and "Virtual" not in name and not name.startswith("Embedded"))
MODIFIERS = frozenset({"public", "private", "protected", "readonly", "declare", "override", "abstract"})
# After these a line break does not end a property's type (`string |` newline `null`).
_CONTINUES = frozenset({"|", "&", ",", "=", "=>", ":", "<", ".", "?"})


class NotEditable(Exception):
    """What an entity edit cannot do, said in the note the plan carries instead."""


@dataclass
class Decorator:
    name: str  # Column, Index, or a project's own wrapper of @Entity (ever-gauzy's MultiORMEntity)
    at: int  # token index of its `@`
    open: Optional[int]  # of its `(`, None for a decorator not called
    close: int  # of its `)`, or of its last name token
    args: list[tuple[int, int]]  # each argument's first and last token

    def option_object(self, toks: list[_Tok]) -> Optional[tuple[int, int]]:
        """The `{ ... }` argument (TypeORM's options), as its first and last token."""
        return next(((a, b) for a, b in self.args if toks[a].text == "{" and toks[b].text == "}"), None)

    def options(self, toks: list[_Tok]) -> dict[str, tuple[int, int, int]]:
        """key -> (its token, the value's first and last token) of the options object."""
        found = self.option_object(toks)
        return {} if found is None else _entries(toks, *found)

    def string_option(self, toks: list[_Tok], key: str) -> Optional[str]:
        entry = self.options(toks).get(key)
        return str_value(toks[entry[1]]) if entry is not None and entry[1] == entry[2] else None


@dataclass
class Member:
    decorators: list[Decorator]
    name: str
    name_tok: int
    first: int  # its first token (a decorator's `@`, a modifier or its name)
    last: int  # its last token (`;` where it has one)
    method: bool


@dataclass
class EntityClass:
    name: str
    table: Optional[str]  # None: named by a constant (@Entity(TABLE))
    decorators: list[Decorator]  # the class's own
    start: int  # the first token of its declaration after them (export, class)
    body: tuple[int, int]  # its `{` and `}`
    members: list[Member]


def split_args(toks: list[_Tok], open_: int, close: int) -> list[tuple[int, int]]:
    """The first and last token of each argument (or entry) between brackets `open_` and `close`."""
    out, start, i = [], open_ + 1, open_ + 1
    while i < close:
        if toks[i].text in ("(", "[", "{") and toks[i].kind == "punct":
            i = match_close(toks, i) + 1
            continue
        if toks[i].text == "," and toks[i].kind == "punct":
            out.append((start, i - 1))
            start = i + 1
        i += 1
    if start <= close - 1:
        out.append((start, close - 1))
    return out


def _entries(toks: list[_Tok], open_: int, close: int) -> dict[str, tuple[int, int, int]]:
    out = {}
    for a, b in split_args(toks, open_, close):
        key = str_value(toks[a]) if toks[a].kind == "str" else toks[a].text
        if a + 1 < b and toks[a + 1].text == ":" and key is not None:
            out[key] = (a, a + 2, b)
    return out


def _decorator(toks: list[_Tok], i: int) -> Decorator:
    j = i + 1
    if toks[j].kind != "ident":
        raise TsError("a decorator without a name")
    while j + 2 < len(toks) and toks[j + 1].text == "." and toks[j + 2].kind == "ident":
        j += 2
    name = toks[j].text
    if j + 1 < len(toks) and toks[j + 1].text == "(":
        close = match_close(toks, j + 1)
        return Decorator(name, i, j + 1, close, split_args(toks, j + 1, close))
    return Decorator(name, i, None, j, [])


def _gap_has_newline(text: str, a: _Tok, b: _Tok) -> bool:
    return "\n" in text[a.end:b.start]


def _members(text: str, toks: list[_Tok], open_: int, close: int) -> list[Member]:
    out, i = [], open_ + 1
    while i < close:
        first, decorators = i, []
        while toks[i].text == "@":
            d = _decorator(toks, i)
            decorators.append(d)
            i = d.close + 1
        while toks[i].text in MODIFIERS and toks[i + 1].kind in ("ident", "str"):
            i += 1
        # `public static async deleteWatchlist(`: each keyword before the name (jellyseerr's read one only,
        # and took the method for a property named `async`)
        while toks[i].text in ("get", "set", "async", "static") and toks[i + 1].kind == "ident":
            i += 1
        if toks[i].kind not in ("ident", "str") or i >= close:
            i += 1
            continue
        name_tok, k = i, i + 1
        if toks[k].text in ("!", "?"):
            k += 1
        if toks[k].text in ("(", "<"):  # a method: its body is the first block after its parameters
            while toks[k].text != "{":
                k = match_close(toks, k) + 1 if toks[k].text in ("(", "[") else k + 1
            end = match_close(toks, k)
            out.append(Member(decorators, toks[name_tok].text, name_tok, first, end, True))
            i = end + 1
            continue
        while k < close:
            t = toks[k]
            if t.text == ";" and t.kind == "punct":
                break
            if t.text in ("(", "[", "{") and t.kind == "punct":
                k = match_close(toks, k) + 1
                continue
            if t.text == "@" or (_gap_has_newline(text, toks[k - 1], t) and toks[k - 1].text not in _CONTINUES
                                 and t.text not in _CONTINUES and t.kind in ("ident", "str")):
                k -= 1  # the next member begins: this one ended without a semicolon
                break
            k += 1
        k = min(k, close - 1)
        out.append(Member(decorators, str_value(toks[name_tok]) or toks[name_tok].text, name_tok, first, k, False))
        i = k + 1
    return out


def snake_case(name: str) -> str:
    """TypeORM's snakeCase (its DefaultNamingStrategy's table name for a class named `name`)."""
    out = []
    for k, ch in enumerate(name):
        if ch.isupper() and k and (name[k - 1].islower() or name[k - 1].isdigit()
                                   or (k + 1 < len(name) and name[k + 1].islower() and name[k - 1].isupper())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _table_named(toks: list[_Tok], entity: Decorator, class_name: str) -> Optional[str]:
    """The table an entity decorator names: its first argument, its `name` option, else TypeORM's
    name for the class; None where a constant names it (`@Entity(TABLE)`): not known here."""
    first = entity.args[0] if entity.args else None
    if first is not None and first[0] == first[1]:
        return str_value(toks[first[0]])  # None for a constant, or a template with a ${...}
    entries = entity.options(toks)
    if "name" in entries:
        _, a, b = entries["name"]
        return str_value(toks[a]) if a == b else None
    return snake_case(class_name)


def entity_classes(text: str) -> list[EntityClass]:
    """The classes of `text` with an entity decorator (`@Entity`, or a wrapper whose name ends so)."""
    toks = tokenize_ts(text)
    out, pending, start, i = [], [], None, 0
    while i < len(toks):
        t = toks[i]
        if t.text == "@" and t.kind == "punct":
            d = _decorator(toks, i)
            pending.append(d)
            i = d.close + 1
            start = None
            continue
        if t.text in ("export", "default", "abstract"):
            start = i if start is None else start
            i += 1
            continue
        if t.text == "class" and i + 1 < len(toks) and toks[i + 1].kind == "ident":
            j = i + 2
            while j < len(toks) and toks[j].text != "{":
                j += 1
            if j >= len(toks):
                raise TsError("a class without a body")
            end = match_close(toks, j)
            entity = next((d for d in pending if d.name.endswith("Entity") and d.name not in _NOT_TABLES), None)
            if entity is not None:
                table = _table_named(toks, entity, toks[i + 1].text)
                out.append(EntityClass(toks[i + 1].text, table, pending, i if start is None else start, (j, end),
                                       _members(text, toks, j, end)))
            pending, start = [], None
            i = end + 1
            continue
        pending, start = [], None
        i += 1
    return out


def column_of(member: Member, toks: list[_Tok], naming) -> list[tuple[Decorator, str]]:
    """(decorator, the column it maps the property to) of a member: its column decorators' (their
    `name` option, else the naming strategy's name of the property) and its @JoinColumn's named ones."""
    out = []
    for d in member.decorators:
        if is_column_decorator(d.name):
            first = d.args[0] if d.args else None
            # @Column(() => Engine): an embedded object, its columns the class's own; not an options object
            # holding an arrow (`default: () => 'CURRENT_TIMESTAMP'`, a transformer: jellyseerr's User.email)
            if first is not None and toks[first[0]].text != "{" \
                    and any(t.text == "=>" for t in toks[first[0]: first[1] + 1]):
                continue
            out.append((d, d.string_option(toks, "name") or naming(member.name)))
        elif d.name == "JoinColumn":
            named = d.string_option(toks, "name")
            if named:
                out.append((d, named))
    return out


_TO_ONE = frozenset({"ManyToOne", "OneToOne"})


def property_columns(cls: EntityClass, toks: list[_Tok], naming) -> dict[str, str]:
    """property -> the column it maps, as an index lists properties: a @Column's, and a to-one
    relation's (its @JoinColumn's name, else TypeORM's <relation>Id, named by the strategy)."""
    out = {}
    for m in cls.members:
        mapped = column_of(m, toks, naming)
        plain = [col for d, col in mapped if d.name != "JoinColumn"]
        if plain:
            out[m.name] = plain[0]
        elif any(d.name in _TO_ONE for d in m.decorators):
            joined = [col for d, col in mapped if d.name == "JoinColumn"]
            out[m.name] = joined[0] if joined else naming(m.name + "Id")
    return out


def column_decorators(found) -> list:
    """The column decorators of `found` (a JoinColumn names the column, but types and defaults are
    the @Column's)."""
    cols = [(m, d) for m, d in found if d.name != "JoinColumn"]
    if not cols:
        raise NotEditable("the column is a relation's @JoinColumn alone: declare it with @Column to set its options")
    return cols
