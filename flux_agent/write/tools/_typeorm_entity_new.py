"""A new entity class for a table a plan creates, written where and as the project writes its
entities (their folder and file naming, quotes, semicolons, indentation and `!`), so that TypeORM maps
the table as the migration builds it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import PurePosixPath

from ...model.operations import CreateTable
from ...pg.quote import split_qualified
from ...project.ts_tokens import tokenize_ts
from ._typeorm_entity_edits import column_type, default_value
from ..base import camel
from ._typeorm_entity_file import EntityFile
from ._typeorm_entity_ts import NotEditable, entity_classes

# A serial key is TypeORM's generated column: its type where it is not integer's
_SERIAL = {"serial": None, "serial4": None, "bigserial": "bigint", "serial8": "bigint", "smallserial": "smallint",
           "serial2": "smallint"}


def class_name(table: str, sample: EntityFile | None = None) -> str:
    """The new class's name: the table's in PascalCase, ending `Entity` where the sample's classes
    end so (nestjs-boilerplate's UserEntity)."""
    name = "".join(p[:1].upper() + p[1:] for p in table.split("_") if p)
    if not name.isidentifier():
        raise NotEditable(f"table {table} makes no class name: write its entity by hand")
    classes = entity_classes(sample.text) if sample is not None else []
    suffixed = classes and sum(c.name.endswith("Entity") for c in classes) * 2 > len(classes)
    return name + "Entity" if suffixed and not name.endswith("Entity") else name


def home(table: str, entity_files: list[str]) -> str:
    """Where the new class goes: beside most of the project's entities, or in a folder of its own
    where each of theirs has one (Nest's modules); named `audit-log.entity.ts` where theirs end so,
    else `AuditLog.ts`."""
    paths = [PurePosixPath(f) for f in entity_files]
    if Counter(p.suffix for p in paths).most_common(1)[0][0] != ".ts":
        raise NotEditable("the project's entities are JavaScript: write the new table's entity by hand")
    dotted = sum(p.name.endswith(".entity.ts") for p in paths) * 2 > len(paths)
    kebab = table.replace("_", "-")
    name = f"{kebab}.entity.ts" if dotted else f"{class_name(table)}.ts"
    folder, count = Counter(p.parent for p in paths).most_common(1)[0]
    if count == 1 and len(paths) > 1:  # one entity a folder: the layout theirs share, its module made for it
        depth = Counter(len(p.parts) for p in paths).most_common(1)[0][0]
        alike = [p for p in paths if len(p.parts) == depth]
        differ = [k for k in range(depth - 1) if len({p.parts[k] for p in alike}) > 1]
        if len(differ) == 1:  # src/<module>/infrastructure/persistence/relational/entities/x.entity.ts
            parts = list(alike[0].parent.parts)
            parts[differ[0]] = kebab
            folder = PurePosixPath(*parts)
        else:
            folder = Counter(p.parent.parent for p in paths).most_common(1)[0][0] / kebab
    return (folder / name).as_posix()


def new_entity(op: CreateTable, sample: EntityFile) -> str:
    """The entity file's text for the table `op` creates, in the style of `sample` (an entity file of
    the project)."""
    table = split_qualified(op.table)[1]
    text = sample.text
    classes = entity_classes(text)
    members = [m for c in classes for m in c.members if not m.method]
    toks = tokenize_ts(text)
    marks, indent, end = sample.member_style(toks, members)
    modifiers = sample.modifiers(toks, members)
    mark = "!" if marks.get("!") else ""  # a new class's columns are set, never optional
    q = sample.quote
    keys = [c.name for c in op.columns if c.primary_key]
    used, body = ["Entity"], []
    for col in op.columns:
        prop = camel(col.name)
        if not prop.isidentifier():
            raise NotEditable(f"column {col.name} makes no property name: write the entity by hand")
        named = [("name", q(col.name))] if prop != col.name else []
        serial = col.type.strip().lower() in _SERIAL
        if serial and keys == [col.name]:
            wide = _SERIAL[col.type.strip().lower()]
            decorator, options, ts = "PrimaryGeneratedColumn", named + ([("type", q(wide))] if wide else []), \
                "string" if wide == "bigint" else "number"
        elif serial:
            raise NotEditable(f"{col.name} is a serial column outside a one-column key: write the entity by hand")
        else:
            typed, ts = column_type(col.type)
            options = named + [(k, q(json.loads(v)) if k == "type" else v) for k, v in typed]
            decorator = "PrimaryColumn" if col.name in keys else "Column"
            if col.nullable and col.name not in keys:
                options.append(("nullable", "true"))
                ts += " | null"
            if col.default is not None:
                options.append(("default", default_value(col.default, q)))
        used.append(decorator)
        inner = ", ".join(f"{k}: {v}" for k, v in options)
        body.append(f"{indent}@{decorator}({'{ ' + inner + ' }' if inner else ''})\n{indent}{modifiers}{prop}{mark}: {ts}{end}\n")
    # The decorator's form and TypeORM's active-record base where the project's entities use them
    entity = next((d for c in classes for d in c.decorators if d.name == "Entity"), None)
    named = entity is not None and entity.option_object(toks) is not None and not (
        entity.args and entity.args[0][0] == entity.args[0][1])
    active = any(toks[c.start + k].text == "BaseEntity" for c in classes for k in range(2, 5)
                 if c.start + k < c.body[0] and toks[c.start + k - 1].text == "extends")
    if active:
        used.append("BaseEntity")
    names = sorted(set(used), key=used.index)
    return (f"import {{ {', '.join(names)} }} from {q('typeorm')}{end}\n\n"
            f"@Entity({'{ name: ' + q(table) + ' }' if named else q(table)})\n"
            f"export class {class_name(table, sample)}{' extends BaseEntity' if active else ''} {{\n"
            + "\n".join(body) + "}\n")
