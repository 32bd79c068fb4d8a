"""A Drizzle schema.ts edited as text: each table's pgTable("name", { ... }) found by the small
tokenizer of _ts_tokens.py (no regular expression decides structure), and the column, index and
table edits the operations make."""

from __future__ import annotations

import json

from ...pg.parse import is_one_name
from ...pg.quote import split_qualified
from ._drizzle_snapshot import Unsupported, builder, default_value
from ...project.ts_tokens import _Tok, match_close, str_value, tokenize_ts


class _Prop:
    def __init__(self, key: str, first: int, value: int, last: int, comma: int | None):
        self.key, self.first, self.value, self.last, self.comma = key, first, value, last, comma


class TsSchema:
    """A schema.ts text and the edits Flux makes to it (each re-reads the text)."""

    def __init__(self, text: str):
        self.text = text

    @property
    def toks(self) -> list[_Tok]:
        return tokenize_ts(self.text)

    def splice(self, start: int, end: int, new: str) -> None:
        self.text = self.text[:start] + new + self.text[end:]

    @staticmethod
    def _call(toks, name: str) -> int | None:
        """Index of the `pgTable` (or `schema.table`) token of table `name`'s declaration."""
        for i, t in enumerate(toks[:-3]):
            named = t.text == "pgTable" or (t.text == "table" and i and toks[i - 1].text == ".")
            if t.kind == "ident" and named and toks[i + 1].text == "(" and str_value(toks[i + 2]) == name \
                    and toks[i + 3].text == ",":
                return i
        return None

    def has_table(self, name: str) -> bool:
        return self._call(self.toks, name) is not None

    def has_index(self, name: str) -> bool:
        toks = self.toks
        return any(t.text in ("index", "uniqueIndex") and toks[i + 1].text == "(" and str_value(toks[i + 2]) == name
                   for i, t in enumerate(toks[:-2]))

    def table(self, name: str):
        """(tokens, index of `{` of the columns object, of its `}`, of the call's `)`)."""
        toks = self.toks
        i = self._call(toks, name)
        if i is None:
            raise Unsupported(f"no pgTable(\"{name}\", {{ ... }}) in the schema file")
        close = match_close(toks, i + 1)
        if toks[i + 4].text != "{":
            raise Unsupported(f"pgTable(\"{name}\", ...) does not list its columns in an object literal")
        return toks, i + 4, match_close(toks, i + 4), close

    def const_of(self, table: str) -> str | None:
        """The name of the `const x = pgTable("table", ...)` binding, if it is one."""
        toks = self.toks
        call = self._call(toks, table)
        if call is None:
            return None
        eq = call - 1 if toks[call - 1].text == "=" else call - 3  # const x = pgTable(  or  const x = s.table(
        return toks[eq - 1].text if eq >= 2 and toks[eq].text == "=" and toks[eq - 2].text in (
            "const", "let", "var") else None

    def props(self, toks, open_: int, close: int) -> list[_Prop]:
        out, i = [], open_ + 1
        while i < close:
            key = str_value(toks[i]) if toks[i].kind == "str" else toks[i].text
            if toks[i + 1].text != ":":
                raise Unsupported(f"a column entry of the table object is not `key: builder(...)` near "
                                  f"{self.text[toks[i].start:toks[i].start + 30]!r}")
            j = i + 2
            while j < close and toks[j].text != ",":
                j = match_close(toks, j) + 1 if toks[j].text in ("(", "[", "{") else j + 1
            out.append(_Prop(key, i, i + 2, j - 1, j if j < close else None))
            i = j + 1
        return out

    def column(self, table: str, column: str):
        toks, open_, close, _ = self.table(table)
        for p in self.props(toks, open_, close):
            v = toks[p.value]
            named = str_value(toks[p.value + 2]) if toks[p.value + 1].text == "(" else None
            if (named if named is not None else p.key) == column and v.kind == "ident":
                return toks, p
        raise Unsupported(f"pgTable(\"{table}\") has no column {column}")

    def chain(self, toks, p: _Prop) -> list[tuple[int, int, str]]:
        """(first token, last token, method) of each `.method(...)` after the builder call."""
        out, i = [], match_close(toks, p.value + 1) + 1
        while i <= p.last and toks[i].text == "." and i + 2 <= p.last and toks[i + 2].text == "(":
            end = match_close(toks, i + 2)
            out.append((i, end, toks[i + 1].text))
            i = end + 1
        return out

    def import_(self, name: str, module: str = "drizzle-orm/pg-core") -> None:
        toks = self.toks
        for i, t in enumerate(toks):
            if t.text == "import" and toks[i + 1].text == "{":
                end = match_close(toks, i + 1)
                if toks[end + 1].text == "from" and str_value(toks[end + 2]) == module:
                    names = [x.text for x in toks[i + 2:end] if x.kind == "ident"]
                    if name not in names:
                        last = toks[end - 1]
                        if last.text == "," and "\n" in self.text[last.end:toks[end].start]:  # one a line
                            at = self.text.rfind("\n", 0, toks[end].start) + 1
                            self.splice(at, at, f"{self.indent_of(toks[end - 2].start)}{name},\n")
                        else:
                            self.splice(last.end, last.end, f"{' ' if last.text == ',' else ', '}{name}")
                    return
        self.text = f'import {{ {name} }} from "{module}";\n' + self.text

    def indent_of(self, pos: int) -> str:
        line = self.text.rfind("\n", 0, pos) + 1
        return self.text[line:pos] if not self.text[line:pos].strip() else "  "

    def add_property(self, table: str, text: str) -> None:
        toks, open_, close, _ = self.table(table)
        props = self.props(toks, open_, close)
        indent = self.indent_of(toks[props[0].first].start) if props else "  "
        last = toks[close - 1]
        line_start = self.text.rfind("\n", 0, toks[close].start) + 1
        at = line_start if not self.text[line_start:toks[close].start].strip() else toks[close].start
        self.splice(at, at, f"{indent}{text},\n" if at == line_start else f" {text} ")
        if last.text not in (",", "{"):
            self.splice(last.end, last.end, ",")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _builder_text(column: str, pg_type: str, ts: TsSchema) -> str:
    fn, opts, _ = builder(pg_type)
    ts.import_(fn)
    return f"{fn}({json.dumps(column)}{', ' + opts if opts else ''})"


def _add_index(ts: TsSchema, op, name: str) -> None:
    toks, open_, close, call_close = ts.table(split_qualified(op.table)[1])
    keys = {}
    for p in ts.props(toks, open_, close):
        named = str_value(toks[p.value + 2]) if toks[p.value + 1].text == "(" else None
        keys[named if named is not None else p.key] = p.key
    if getattr(op, "where", None):
        raise Unsupported(f"partial index {name}: add it with .where(sql`{op.where}`) by hand")
    exprs = [c for c in op.columns if not is_one_name(c)]
    if exprs:
        raise Unsupported(f"index {name} on an expression: add it with .on(sql`{exprs[0]}`) by hand")
    fn = "unique" if op.op == "add_unique" else "uniqueIndex" if op.unique else "index"
    ts.import_(fn)
    toks, open_, close, call_close = ts.table(split_qualified(op.table)[1])
    if toks[close + 1].text == ")":  # no third argument yet
        param = "t"
        item = f'{fn}({json.dumps(name)}).on({", ".join(f"{param}.{keys[c]}" for c in op.columns)})'
        # As the file's other tables write theirs: drizzle-orm before 0.36 takes only the object form
        # (ai-chatbot's 0.34: the array form failed tsc), later ones both
        objects = any(t.text == "=>" and toks[k + 1].text == "(" and toks[k + 2].text == "{"
                      for k, t in enumerate(toks[:-2]))
        third = f"({param}) => ({{ {_camel(name)}: {item} }})" if objects else f"({param}) => [{item}]"
        ts.splice(toks[close].end, toks[close].end, f", {third}")
        return
    i = close + 2  # (t) => [ ... ]  or  (t) => ({ ... })  or  t => [ ... ]
    param = toks[i + 1].text if toks[i].text == "(" else toks[i].text
    arrow = next((j for j in range(i, call_close) if toks[j].text == "=>"), None)
    if arrow is None or toks[arrow + 1].text not in ("[", "("):
        raise Unsupported("the table's third argument is not `(t) => [ ... ]`: add "
                          f'{fn}("{name}").on(...) to it by hand')
    item = f'{fn}({json.dumps(name)}).on({", ".join(f"{param}.{keys[c]}" for c in op.columns)})'
    body = arrow + 1 if toks[arrow + 1].text == "[" else arrow + 2
    end = match_close(toks, body)
    if toks[body].text == "{":
        item = f"{_camel(name)}: {item}"
    last = toks[end - 1]
    line_start = ts.text.rfind("\n", 0, toks[end].start) + 1
    if not ts.text[line_start:toks[end].start].strip():  # one element a line
        indent = ts.indent_of(toks[body + 1].start) if end > body + 1 else "  "
        ts.splice(line_start, line_start, f"{indent}{item},\n")
    else:
        ts.splice(toks[end].start, toks[end].start, (", " if last.text not in (",", "[", "{") else "") + item)
        return
    if last.text not in (",", "[", "{"):
        ts.splice(last.end, last.end, ",")


def _create_table(ts: TsSchema, op) -> None:
    schema, table = split_qualified(op.table)
    if schema not in (None, "public"):
        raise Unsupported(f"table {op.table} is outside the public schema: declare it with pgSchema(...).table")
    pk = [c for c in op.columns if c.primary_key]
    if len(pk) > 1:
        raise Unsupported(f"table {table} has a composite primary key: declare it with primaryKey() by hand")
    lines = []
    for c in op.columns:
        mods = (".primaryKey()" if c.primary_key else "" if c.nullable or c.type.strip().lower().endswith("serial")
                else ".notNull()") + (default_value(c.default)[1] if c.default else "")
        lines.append(f"  {_camel(c.name)}: {_builder_text(c.name, c.type, ts)}{mods},\n")
    ts.import_("pgTable")
    taken = {t.text for t in ts.toks if t.kind == "ident"}
    name = next(n for n in (_camel(table), _camel(table) + "Table", _camel(table) + "Pg") if n not in taken)
    gap = "" if ts.text.endswith("\n\n") else "\n" if ts.text.endswith("\n") else "\n\n"
    ts.text += f'{gap}export const {name} = pgTable({json.dumps(table)}, {{\n{"".join(lines)}}});\n'


def _drop_table(ts: TsSchema, table: str) -> None:
    toks, open_, _, call_close = ts.table(table)
    call = next(i for i in range(open_, -1, -1) if toks[i].kind == "ident" and toks[i].text in ("pgTable", "table"))
    eq = call - 1 if toks[call - 1].text == "=" else call - 3  # const x = pgTable(  or  const x = s.table(
    if toks[eq].text != "=" or toks[eq - 2].text not in ("const", "let", "var"):
        raise Unsupported(f"pgTable(\"{table}\") is not a `const x = pgTable(...)` statement: remove it by hand")
    name, first = toks[eq - 1].text, eq - 2 - (toks[eq - 3].text == "export" if eq >= 3 else 0)
    end = call_close + 1 if call_close + 1 < len(toks) and toks[call_close + 1].text == ";" else call_close
    if any(t.text == name for k, t in enumerate(toks) if (k < first or k > end) and t.kind == "ident"):
        raise Unsupported(f"{name} (table {table}) is used elsewhere in the schema file (relations, references): "
                          "remove those and the table by hand")
    start = ts.text.rfind("\n", 0, toks[first].start) + 1
    stop = ts.text.find("\n", toks[end].end)
    stop = len(ts.text) if stop < 0 else stop + 1
    if ts.text[start:toks[first].start].strip() or ts.text[toks[end].end:stop].strip():
        start, stop = toks[first].start, toks[end].end
    elif ts.text[stop:stop + 1] == "\n" and start > 0 and ts.text[start - 2:start] == "\n\n":
        stop += 1  # one blank line stays between the neighbours
    ts.splice(start, stop, "")


def _indexes_on(ts: TsSchema, table: str, key: str) -> list[str]:
    """The names of the table's `index("name").on(...)` elements whose columns include `t.<key>`."""
    toks, _, close, call_close = ts.table(table)
    out = []
    for i in range(close, call_close - 3):
        if toks[i].text in ("index", "uniqueIndex") and toks[i + 1].text == "(" and str_value(toks[i + 2]) is not None \
                and toks[i + 3].text == ")":
            j = i + 4
            while j < call_close and toks[j].text == "." and toks[j + 2].text == "(":
                end = match_close(toks, j + 2)
                if toks[j + 1].text == "on" and any(t.text == key and toks[n - 1].text == "."
                                                     for n, t in enumerate(toks[j + 3:end], j + 3)):
                    out.append(str_value(toks[i + 2]))
                j = end + 1
    return out


def _drop_index(ts: TsSchema, name: str) -> None:
    """Remove the `index("name")...` element of a table's third argument."""
    toks = ts.toks
    for i, t in enumerate(toks[:-3]):
        if t.text in ("index", "uniqueIndex") and toks[i + 1].text == "(" and str_value(toks[i + 2]) == name:
            j = match_close(toks, i + 1) + 1
            while j < len(toks) and toks[j].text == "." and toks[j + 2].text == "(":
                j = match_close(toks, j + 2) + 1
            first = i - 2 if toks[i - 1].text == ":" else i  # the object form: `key: index(...)`
            end = toks[j].end if toks[j].text == "," else toks[j - 1].end
            start = ts.text.rfind("\n", 0, toks[first].start) + 1
            nl = ts.text.find("\n", end)
            if not ts.text[start:toks[first].start].strip() and not ts.text[end:nl].strip():
                ts.splice(start, nl + 1, "")
            else:
                before = toks[first - 1]
                ts.splice(before.end if before.text == "," and toks[j].text != "," else toks[first].start, end, "")
            return
    raise Unsupported(f"no index(\"{name}\") in the schema file")


def ts_edit(ts: TsSchema, op, index_name) -> None:
    """One operation applied to schema.ts; Unsupported when Flux cannot edit it safely."""
    _ts_edit(ts, op, index_name)
    if ".default(sql`" in ts.text:
        ts.import_("sql", "drizzle-orm")


def _ts_edit(ts: TsSchema, op, index_name) -> None:
    kind = op.op
    table = split_qualified(getattr(op, "table", "") or "")[1]
    if kind == "add_column":
        mods = ("" if op.nullable else ".notNull()") + (default_value(op.default)[1] if op.default else "")
        ts.add_property(table, f"{_camel(op.column)}: {_builder_text(op.column, op.type, ts)}{mods}")
    elif kind == "rename_column":
        toks, p = ts.column(table, op.column)
        arg = toks[p.value + 2]
        if str_value(arg) is not None:
            ts.splice(arg.start, arg.end, arg.text[0] + op.new_name + arg.text[0])
        else:  # the key names the column: keep the key, name the column
            sep = "" if arg.text == ")" else ", "
            ts.splice(arg.start, arg.start, json.dumps(op.new_name) + sep)
    elif kind == "change_column_type":
        toks, p = ts.column(table, op.column)
        new = _builder_text(op.column, op.type, ts)
        toks, p = ts.column(table, op.column)
        ts.splice(toks[p.value].start, toks[match_close(toks, p.value + 1)].end, new)
    elif kind in ("set_not_null", "drop_not_null", "set_default", "drop_default"):
        toks, p = ts.column(table, op.column)
        drop = {"set_not_null": ("notNull",), "drop_not_null": ("notNull",)}.get(
            kind, ("default", "defaultNow", "$defaultFn", "$default"))
        for first, last, method in reversed(ts.chain(toks, p)):
            if method in drop:
                ts.splice(toks[first].start, toks[last].end, "")
        add = {"set_not_null": ".notNull()", "set_default": default_value(getattr(op, "default", "") or "0")[1]}
        if kind in add:
            toks, p = ts.column(table, op.column)
            ts.splice(toks[p.last].end, toks[p.last].end, add[kind])
    elif kind == "drop_column":
        toks, p = ts.column(table, op.column)
        const = ts.const_of(table)
        if const and any(t.text == const and toks[k + 1].text == "." and toks[k + 2].text == p.key
                         for k, t in enumerate(toks[:-2])):
            raise Unsupported(f"{const}.{p.key} is used in the schema file (relations): remove it there and the "
                              f"{p.key} entry by hand")
        for name in _indexes_on(ts, table, p.key):  # PostgreSQL drops them with the column
            _drop_index(ts, name)
        toks, p = ts.column(table, op.column)
        _, _, close, call_close = ts.table(table)
        if any(t.text == p.key for t in toks[close:call_close]):
            raise Unsupported(f"the table's indexes or constraints name column {op.column}: remove them and the "
                              f"{p.key} entry by hand")
        start = ts.text.rfind("\n", 0, toks[p.first].start) + 1
        end = toks[p.comma].end if p.comma is not None else toks[p.last].end
        nl = ts.text.find("\n", end)
        if not ts.text[start:toks[p.first].start].strip() and not ts.text[end:nl].strip():
            ts.splice(start, nl + 1, "")
        else:
            ts.splice(toks[p.first].start, end, "")
    elif kind in ("add_index", "add_unique"):
        _add_index(ts, op, index_name(op))
    elif kind == "drop_index":
        _drop_index(ts, split_qualified(op.name)[1])
    elif kind == "create_table":
        _create_table(ts, op)
    elif kind == "drop_table":
        _drop_table(ts, table)
    elif kind == "rename_table":
        toks, open_, _, _ = ts.table(table)
        name = toks[open_ - 2]  # pgTable("old", {  : the string; the const keeps its name
        new = split_qualified(op.new_name)[1]
        ts.splice(name.start, name.end, name.text[0] + new + name.text[0])
    elif kind == "backfill":
        return
    else:
        raise Unsupported(f"{kind.replace('_', ' ')} is not edited in schema.ts by Flux: change the pgTable by hand")
