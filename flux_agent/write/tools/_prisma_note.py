"""The note a Prisma plan's code step carries: for renames and drops, model by model, what to
change in schema.prisma (read line by line) so the application follows the database."""

from __future__ import annotations

import re

from ...model.plan import Plan
from ..base import camel
from ...pg.quote import split_qualified

__all__ = ["Model", "annotate", "code_note", "models"]

# schema.prisma lines (not SQL).
_BLOCK = re.compile(r"^\s*(model|view)\s+(\w+)\s*\{")
_MAP = re.compile(r"""@map\(\s*(?:name:\s*)?"([^"]*)"\s*\)""")
_TABLE_MAP = re.compile(r"""^\s*@@map\(\s*(?:name:\s*)?"([^"]*)"\s*\)""")
_FIELD = re.compile(r"^\s*(\w+)\s+(\w+)(\[\]|\?)?(.*)$")


class Model:
    def __init__(self, kind: str, name: str, lines: list[str]):
        self.kind, self.name, self.lines = kind, name, lines
        mapped = [m.group(1) for line in lines if (m := _TABLE_MAP.match(line))]
        self.table = mapped[0] if mapped else name
        self.mapped = bool(mapped)

    def fields(self):
        """(name, type, modifier, attributes, column, line) of each field."""
        for line in self.lines:
            m = _FIELD.match(line)
            if m and not line.lstrip().startswith(("@@", "//")):
                attrs = m.group(4).split("//")[0].strip()
                col = _MAP.search(attrs)
                yield m.group(1), m.group(2), m.group(3) or "", attrs, col.group(1) if col else m.group(1), line.strip()


def models(text: str) -> list[Model]:
    out, block, lines = [], None, []
    for line in text.splitlines():
        if block is None:
            if m := _BLOCK.match(line):
                block, lines = m, []
        elif line.strip() == "}":
            out.append(Model(block.group(1), block.group(2), lines))
            block = None
        else:
            lines.append(line)
    return out


def _names(field: str, key: str, line: str) -> bool:
    """Does `key[...]` on this line list `field`? (key: "@@index(", "fields:", ...)"""
    at = line.find(key)
    while at >= 0:
        start = line.find("[", at)
        stop = line.find("]", start)
        if start >= 0 and stop > start and field in re.findall(r"\w+", line[start:stop]):
            return True
        at = line.find(key, at + 1)
    return False


def _mentions(found: list[Model], m: Model, field: str) -> list[str]:
    """Lines naming `field` of model `m`: its block attributes and relation `fields:`,
    and `references:` of relation fields (in any model) pointing at `m`."""
    out = [line.strip() for line in m.lines
           if (line.lstrip().startswith("@@") and "[" in line and _names(field, "(", line))
           or (not line.lstrip().startswith("@@") and _names(field, "fields:", line))]
    for o in found:
        for _, typ, _, attrs, _, line in o.fields():
            if typ == m.name and _names(field, "references:", attrs):
                out.append(line if o is m else f"model {o.name}: {line}")
    return list(dict.fromkeys(out))


def _line(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _rename_column(found: list[Model], m: Model, column: str, new: str) -> str:
    field = next((f for f in m.fields() if f[4] == column), None)
    if field is None:
        return f"model {m.name} has no field for column {column}; nothing to change there"
    name, typ, mod, attrs, _, _ = field
    rest = re.sub(r"\s*" + _MAP.pattern, "", attrs).strip()
    # Keep the schema's naming: a field named as its column, or its camelCase, follows
    # the rename; a field with a name of its own keeps it and only maps the new column.
    if name == column:
        new_name, new_line = new, _line(new, typ + mod, rest)
    else:
        new_name = camel(new) if name == camel(column) else name
        new_line = _line(new_name, typ + mod, rest, f'@map("{new}")')
    # What --write makes (_prisma_edits): the field keeps its name and maps the new column.
    kept = _line(name, typ + mod, rest, f'@map("{new}")' if name != new else "")
    text = f"in model {m.name}, field {name} maps the new column: {kept} (written with the plan; application " \
           "code needs no change)"
    if new_name != name:
        refs = _mentions(found, m, name)
        text += f"; to rename the field too: {new_line}"
        if refs:
            text += f", and rename {name} to {new_name} in: " + "; ".join(refs)
    return text


def _drop_column(found: list[Model], m: Model, column: str) -> str:
    field = next((f for f in m.fields() if f[4] == column), None)
    if field is None:
        return f"model {m.name} has no field for column {column}; nothing to change there"
    refs = _mentions(found, m, field[0])
    if any("@relation" in r for r in refs):  # a relation's key: not ignorable alone, the edit is by hand
        return f"in model {m.name}, delete the field line: {field[5]}, and the lines that name it: {'; '.join(refs)}"
    more = f"; the lines that name it: {'; '.join(refs)}" if refs else ""
    return (f"in model {m.name}, field {field[0]} gets @ignore, so the client no longer has it (written with "
            f"the plan; the line goes with the drop){more}")


def _drop_table(all_models: list[Model], m: Model) -> str:
    refs = [f"model {o.name}: {name} {typ}{mod}" for o in all_models if o is not m
            for name, typ, mod, *_ in o.fields() if typ == m.name]
    more = f", as do the relation fields pointing to it: {'; '.join(refs)}" if refs else ""
    return (f"{m.kind} {m.name} gets @@ignore, so the client no longer has it (written with the plan; the "
            f"model goes with the drop){more}")


def _rename_table(m: Model, new: str) -> str:
    what = f'@@map("{m.table}") becomes @@map("{new}")' if m.mapped else f'gets the line @@map("{new}")'
    return f"model {m.name} {what} (written with the plan; application code needs no change)"


def code_note(plan: Plan, schema_prisma_text: str) -> str | None:
    """What to change in schema.prisma at the code step, or None when nothing."""
    found = models(schema_prisma_text)
    notes = []
    for op in plan.operations:
        if op.op not in ("rename_column", "rename_table", "drop_column", "drop_table"):
            continue
        table = split_qualified(op.table)[1]
        m = next((m for m in found if m.table == table), None)
        if m is None:
            notes.append(f"no model in schema.prisma maps table {table}; check it by hand")
        elif op.op == "rename_column":
            notes.append(_rename_column(found, m, op.column, op.new_name))
        elif op.op == "drop_column":
            notes.append(_drop_column(found, m, op.column))
        elif op.op == "rename_table":
            notes.append(_rename_table(m, split_qualified(op.new_name)[1]))
        else:
            notes.append(_drop_table(found, m))
    return "; ".join(notes) if notes else None


def annotate(plan: Plan, schema_prisma_text: str) -> Plan:
    """A copy of `plan` whose first code step also says what to change in schema.prisma."""
    note = code_note(plan, schema_prisma_text)
    out = plan.model_copy(deep=True)
    code = next((s for s in out.steps if s.is_code), None)
    if note and code is not None and note not in code.title:
        code.title = f"{code.title}; in schema.prisma: {note}"
    return out
