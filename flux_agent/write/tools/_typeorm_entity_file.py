"""A TypeORM entity file's text and the edits of its text the operations' edits are made of: an
option set or removed in a decorator's options object, a decorator or a member removed with its
lines, a decorator put on a class, a name imported from typeorm; each edit reads the text again."""

from __future__ import annotations

import json
from collections import Counter
from typing import Callable

from ...project.ts_tokens import str_value, tokenize_ts
from ._typeorm_entity_ts import MODIFIERS, EntityClass, Member, NotEditable, column_of, entity_classes


class EntityFile:
    """An entity file's text, edited in place; each edit reads the text again."""

    def __init__(self, text: str, naming: Callable[[str], str]):
        self.text, self.naming = text, naming

    # -- reading ---------------------------------------------------------------------------

    def entity(self, table: str) -> tuple[list, EntityClass]:
        toks = tokenize_ts(self.text)
        for cls in entity_classes(self.text):
            if cls.table == table:
                return toks, cls
        raise NotEditable(f"no entity class of table {table}")

    def mapped(self, table: str, column: str):
        """(tokens, class, [(member, decorator)]) of the decorators mapping `column`."""
        toks, cls = self.entity(table)
        found = [(m, d) for m in cls.members for d, col in column_of(m, toks, self.naming) if col == column]
        if not found:
            raise NotEditable(f"no property of entity {cls.name} maps to column {column}")
        return toks, cls, found

    def member_style(self, toks, members: list) -> tuple[Counter, str, str]:
        """How the properties `members` are written: the marks after their names (`!`, `?` or none,
        counted), their indentation (the most used) and whether they end with `;`."""
        marks = Counter(toks[m.name_tok + 1].text if toks[m.name_tok + 1].text in ("!", "?") else "" for m in members)
        indents = Counter(self.indent_at(toks[m.first].start) for m in members)
        indent = indents.most_common(1)[0][0] if indents else "    "
        return marks, indent, ";" if not members or toks[members[-1].last].text == ";" else ""

    def modifiers(self, toks, members: list) -> str:
        """The words most of the properties `members` have before their names (`public `, `readonly `),
        or none: jellyseerr's properties are all `public`."""
        words = Counter(" ".join(toks[j].text for j in range((m.decorators[-1].close + 1) if m.decorators else m.first,
                                                             m.name_tok) if toks[j].text in MODIFIERS)
                        for m in members)
        found = words.most_common(1)[0][0] if words else ""
        return f"{found} " if found else ""

    def quote(self, value: str) -> str:
        """A TypeScript string literal in the file's own quotes."""
        quotes = [t.text[0] for t in tokenize_ts(self.text) if t.kind == "str"]
        singles, doubles = quotes.count("'"), quotes.count('"')
        text = json.dumps(value)
        if singles > doubles:
            text = "'" + text[1:-1].replace('\\"', '"').replace("'", "\\'") + "'"
        return text

    # -- editing ---------------------------------------------------------------------------

    def splice(self, start: int, end: int, new: str) -> None:
        self.text = self.text[:start] + new + self.text[end:]

    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def indent_at(self, pos: int) -> str:
        start = self.line_start(pos)
        return self.text[start: start + len(self.text[start:]) - len(self.text[start:].lstrip(" \t"))]

    def set_option(self, toks, d, key: str, value: str) -> None:
        """`key: value` in the decorator's options object (made where it has none)."""
        entries = d.options(toks)
        if key in entries:
            _, a, b = entries[key]
            self.splice(toks[a].start, toks[b].end, value)
            return
        found = d.option_object(toks)
        if found is not None:
            open_, close = found
            if close == open_ + 1:
                self.splice(toks[open_].end, toks[close].start, f" {key}: {value} ")
            elif key == "name":  # a column's name first, as TypeORM's own examples write it
                self.splice(toks[open_].end, toks[open_].end, f" {key}: {value},")
            else:  # after the last option, in the object's own layout (one a line, a trailing comma)
                last = toks[close - 1]
                trailing = last.text == ","
                anchor = toks[close - 2] if trailing else last
                if "\n" in self.text[anchor.end: toks[close].start]:
                    gap = f"\n{self.indent_at(toks[close - 2 if trailing else close - 1].start)}"
                    self.splice(last.end, last.end, f"{'' if trailing else ','}{gap}{key}: {value}{',' if trailing else ''}")
                else:
                    self.splice(last.end, last.end, f"{'' if trailing else ','} {key}: {value}{',' if trailing else ''}")
        elif d.open is None:
            raise NotEditable(f"@{d.name} is not called with options")
        elif d.args:
            self.splice(toks[d.close].start, toks[d.close].start, f", {{ {key}: {value} }}")
        else:
            self.splice(toks[d.open].end, toks[d.close].start, f"{{ {key}: {value} }}")

    def remove_option(self, toks, d, key: str) -> None:
        """The option gone; an options object left empty goes too (`@Column({})` -> `@Column()`)."""
        entries = d.options(toks)
        if key not in entries:
            return
        key_tok, _, last = entries[key]
        open_, close = d.option_object(toks)
        if len(entries) == 1:  # the object holds only it: the object goes
            arg = next(k for k, (a, _) in enumerate(d.args) if a == open_)
            start = toks[open_].start if arg == 0 else toks[d.args[arg - 1][1]].end
            self.splice(start, toks[close].end, "")
            return
        comma = toks[last + 1].text == ","
        start, end = toks[key_tok].start, (toks[last + 1] if comma else toks[last]).end
        line = self.line_start(start)
        nl = self.text.find("\n", end)
        if not self.text[line:start].strip() and nl >= 0 and not self.text[end:nl].strip():
            start, end = line, nl + 1  # an option on lines of its own goes with its lines
        elif comma and last + 2 < close:
            end = toks[last + 2].start  # `a: 1, b: 2` -> `b: 2`
        elif comma:
            start = toks[key_tok - 1].end  # the last, a comma after it: `a: 1, b: 2, }` -> `a: 1, }`
        else:
            start = toks[key_tok - 1].start  # the last: `a: 1, b: 2 }` -> `a: 1 }`
        self.splice(start, end, "")

    def add_class_decorator(self, toks, cls: EntityClass, text: str) -> None:
        """A decorator on the line before the class declaration (after its other decorators)."""
        at = self.line_start(toks[cls.start].start)
        self.splice(at, at, f"{self.indent_at(toks[cls.start].start)}{text}\n")

    def remove_decorator(self, toks, d) -> None:
        """A decorator on a line of its own goes with its line; else the decorator alone."""
        start, end = toks[d.at].start, toks[d.close].end
        line, nl = self.line_start(start), self.text.find("\n", end)
        nl = len(self.text) if nl < 0 else nl
        if not self.text[line:start].strip() and not self.text[end:nl].strip():
            self.splice(line, nl + 1, "")
        else:
            self.splice(start, end + (1 if self.text[end: end + 1] == " " else 0), "")

    def remove_member(self, toks, m: Member) -> None:
        """The member's lines gone, with the comment lines right above it (its documentation)."""
        start = self.line_start(toks[m.first].start)
        while start > 0:
            above = self.line_start(start - 1)
            line = self.text[above:start].strip()
            if not (line.startswith(("//", "/*", "*")) or line.endswith("*/")):
                break
            start = above
        end = self.text.find("\n", toks[m.last].end)
        end = len(self.text) if end < 0 else end + 1
        if self.text[start - 2: start] == "\n\n" and self.text[end: end + 1] == "\n":
            end += 1  # the blank line that separated it from the member after
        self.splice(start, end, "")

    def ensure_import(self, name: str) -> None:
        """`name` imported from typeorm, unless the file imports it already (from anywhere)."""
        toks = tokenize_ts(self.text)
        lists = []
        for i, t in enumerate(toks):
            if t.text == "import" and i + 1 < len(toks) and toks[i + 1].text == "{":
                close = next(j for j in range(i + 1, len(toks)) if toks[j].text == "}")
                if name in {x.text for x in toks[i + 2: close] if x.kind == "ident"}:
                    return
                if close + 2 < len(toks) and toks[close + 1].text == "from" and str_value(toks[close + 2]) == "typeorm":
                    lists.append((i + 1, close))
        if not lists:
            self.text = f"import {{ {name} }} from {self.quote('typeorm')}{self.semicolon}\n" + self.text
            return
        open_, close = lists[0]
        last = toks[close - 1]
        if "\n" in self.text[last.end: toks[close].start]:  # one name a line: a line of its own
            at = self.line_start(toks[close].start)
            self.splice(at, at, f"{self.indent_at(toks[close - 1].start)}{name},\n" if last.text == "," else
                        f"{self.indent_at(last.start)}{name}\n")
            if last.text != ",":
                self.splice(last.end, last.end, ",")
        else:
            self.splice(last.end, last.end, f"{'' if last.text == ',' else ','} {name}")

    @property
    def semicolon(self) -> str:
        """`;` unless the file ends its statements without (typeorm's own style): told by its imports."""
        toks = tokenize_ts(self.text)
        imports = [j for j, t in enumerate(toks) if t.text == "from" and j + 2 < len(toks) and toks[j + 1].kind == "str"]
        ends = [toks[j + 2].text == ";" for j in imports]
        return "" if ends and not any(ends) else ";"
