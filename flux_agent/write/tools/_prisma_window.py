"""schema.prisma between a plan's code deploy and its contract. A column (or table) the contract
drops is still in the database then: its field (model) stays, marked `@ignore` (`@@ignore`), so the
client stops using it and a `prisma migrate dev` in between writes no DROP of its own; a renamed
column's old one, and a type change's copy of the new type, get an ignored field of their own
beside the field (an Unsupported type, which the client never has and Prisma will not @ignore, stays
as it is). The contract's write takes them out (close_window); where it sets a dropped column (table)
aside first and writes its drop later, the field (model) maps the set-aside one until then."""

from __future__ import annotations

from dataclasses import replace

from ...model.operations import DropColumn, RenameColumn, RenameTable
from ...schema.readers._prisma_map import field_names, find_arg, str_attr
from ...schema.readers._prisma_parse import Call, Ident
from ._prisma_edits import edit, edit_drop_column
from ._prisma_schema import Attr, Cannot, Doc, attr_text, prisma_type

__all__ = ["close_window", "edit_window"]


def _ignored(attrs) -> bool:
    return any(a.name == "ignore" for a in attrs)


def _unsupported(type_: str) -> bool:
    return type_.split("(", 1)[0] == "Unsupported"  # as parsed (its argument apart), or as prisma_type writes it


def _hidden(f) -> bool:
    """Out of the client: `@ignore`d, or of an Unsupported type, which the client never has (and which
    Prisma refuses to @ignore: formbricks' numeric and tsvector columns)."""
    return _ignored(f.attrs) or _unsupported(f.type)


def _hide(attrs, type_: str) -> list:
    """`attrs` with `@ignore` where the field needs it to be hidden (not on an Unsupported type)."""
    return attrs if _ignored(attrs) or _unsupported(type_) else [*attrs, Attr("ignore", [])]


def _keys(block, f) -> list:
    """The relation fields whose `fields:` list `f`."""
    return [x for x in block.fields for a in x.attrs
            if a.name == "relation" and f.name in field_names(find_arg(a.args, "fields"))]


def _ignored_copy(doc: Doc, op, prefix: str, column: str, typed=None) -> None:
    """After the op's field, an ignored copy of it mapping `column` (a column only the sync trigger
    writes meanwhile), named `<prefix><field>` (of type `typed`, prisma_type()'s answer, where
    given), with copies of its indexes under their names (the field's own are pinned to the copies'
    names on the new column later: pin_to_database). Required only with
    a default: a required ignored field without one would take `create` from the client."""
    block = doc.model(op.table)
    f = doc.field(block, op.column)
    taken = {x.name for x in block.fields}
    name = next(n for n in (f"{prefix}{f.name}", f"{prefix}{f.name}_{column}", f"{prefix}{f.name}_1")
                if n not in taken)
    keep = [a for a in f.attrs if a.name not in ("map", "id", "updatedAt") and not (typed and a.name.startswith("db."))]
    copy = replace(f, name=name, optional=f.optional or not (f.is_list or any(a.name == "default" for a in f.attrs)),
                   attrs=keep + (typed[1] if typed else []) + [Attr("map", [(None, column)])])
    if typed:
        copy.type, copy.is_list = typed[0], typed[2]
    copy.attrs = _hide(copy.attrs, copy.type)
    attrs = [a for _, a in doc.block_attr_lines(block)
             if a.name in ("index", "unique") and f.name in field_names(find_arg(a.args, "fields", 0))]
    doc.insert(f.line + 1, doc.field_text(copy, doc.line(f.line)))
    for a in attrs:
        # a rename's old field has the original index on the old column: its map (its name) goes with
        # it; a type change's copy has a copy of it, named by the database later (pin_to_database)
        args = [(k, [_renamed(x, f.name, name) for x in v] if (k in (None, "fields") and isinstance(v, list)) else v)
                for k, v in a.args if k != "map" or typed is None]
        doc.add_member(doc.model(op.table), attr_text(Attr(a.name, args), "@@"), attribute=True)


def _shadow_column(doc: Doc, op, window) -> bool:
    """A type change's window: the field keeps its type until the swap; the copy of the new type
    (the one column of the table no field maps, in the database until the contract) is ignored."""
    table = window.table(op.table) if window is not None else None
    mapped = set(doc.columns(doc.model(op.table)).values())
    extra = [c.name for c in table.columns if c.name not in mapped] if table is not None else []
    if len(extra) != 1:
        return False
    _ignored_copy(doc, op, "flux_new_", extra[0], typed=prisma_type(doc, op.type))
    return True


def _renamed(item, old: str, new: str):
    """An index's field (an Ident, or a Call with its options) named `new` where it names `old`."""
    return item._replace(name=new) if isinstance(item, (Ident, Call)) and item.name == old else item


def edit_window(doc: Doc, op, window=None) -> bool:
    """`op` as the database stands between the code deploy and the contract (`window`: that
    database), where that differs from after it; False where the op has no window (then edit()
    describes both)."""
    if op.op in ("drop_column", "rename_column", "change_column_type"):
        block = doc.model(op.table)
        f = doc.field(block, op.column)
        if _keys(block, f) or any(a.name == "id" for a in f.attrs):
            return False  # a key: the op's own edit says what to do
        if op.op == "rename_column":
            _ignored_copy(doc, op, "flux_old_", op.column)
            edit(doc, op)  # the first field mapping the column: the original
            return True
        if op.op == "change_column_type":
            return _shadow_column(doc, op, window)
        f.optional = f.optional or not f.is_list  # the expand allowed NULL
        f.attrs = _hide(f.attrs, f.type)
        doc.set_field(f)
        return True
    if op.op == "drop_table":
        block = doc.model(op.table)
        for other in [b for b in doc.blocks if b.kind == "model" and b is not block]:
            for f in (f for f in other.fields if f.type == block.name and not _ignored(f.attrs)):
                f.attrs = [*f.attrs, Attr("ignore", [])]  # Prisma: a relation to an ignored model is ignored
                doc.set_field(f)
        block = doc.model(op.table)
        if not _ignored(block.attrs):
            doc.add_member(block, "@@ignore", attribute=True)
        return True
    return False


def _set_aside(op) -> str:
    """Where a drop's contract sets the column (table) aside before it drops it (plan/ops)."""
    from ...plan.ops import drop_column, drop_table

    return drop_column.aside_name(op.column) if op.op == "drop_column" else drop_table.aside_name(op.table)


def _still_aside(op, after) -> bool:
    """Does the database after the steps written now (`after`) hold the drop's set-aside column
    (table)? Its drop is written once the set-aside ran (write/deploy_groups.py's "watch")."""
    if after is None or op.op not in ("drop_column", "drop_table"):
        return False
    if op.op == "drop_table":
        return after.table(_set_aside(op)) is not None
    table = after.table(op.table)
    return table is not None and table.column(_set_aside(op)) is not None


def _has_model(doc: Doc, table: str) -> bool:
    try:
        doc.model(table)
    except Cannot:
        return False
    return True


def close_window(doc: Doc, op, after=None) -> bool:
    """The contract's edit of `op` made where its window edit stands (the `@ignore`d field of the
    dropped or renamed-away column, the `@@ignore`d model); False where it does not (not windowed,
    or edited by hand since). `after`: the database once the steps written now ran; where a drop's
    column (table) is set aside there, not dropped yet, the field (model) maps the set-aside one and
    stays ignored until the drop is written (a `prisma migrate dev` meanwhile would drop it early)."""
    try:
        if op.op == "drop_table" and not _has_model(doc, op.table):
            op = op.model_copy(update={"table": _set_aside(op)})  # set aside by the last write
        block = doc.model(op.table)
        if op.op in ("drop_column", "rename_column"):
            column = op.column
            if op.op == "drop_column" and column not in doc.columns(block).values():
                column = _set_aside(op)  # set aside by the last write
            f = doc.field(block, column)
            marked = _hidden(f) and (str_attr(f.attrs, "map") or f.name) == column
            op = op.model_copy(update={"column": column})
        elif op.op == "change_column_type":
            name = doc.field(block, op.column).name
            f = next((x for x in block.fields if x.name.startswith(f"flux_new_{name}") and _hidden(x)), None)
            marked = f is not None
        else:
            marked = op.op == "drop_table" and _ignored(block.attrs)
    except Cannot:
        return False
    if marked and _still_aside(op, after):
        edit(doc, RenameTable(table=op.table, new_name=_set_aside(op)) if op.op == "drop_table"
             else RenameColumn(table=op.table, column=op.column, new_name=_set_aside(op)))
    elif marked and op.op == "drop_table":
        edit(doc, op)
    elif marked and op.op == "change_column_type":  # the copy goes; the field takes its type
        edit_drop_column(doc, DropColumn(table=op.table, column=str_attr(f.attrs, "map") or f.name))
        edit(doc, op)
    elif marked:
        edit_drop_column(doc, op)
    return marked
