"""schema.prisma between a plan's code deploy and its contract. A column (or table) the contract
drops is still in the database then: its field (model) stays, marked `@ignore` (`@@ignore`), so the
client stops using it and a `prisma migrate dev` in between writes no DROP of its own; a renamed
column's old one gets an ignored field of its own beside the renamed field. The contract's write
takes them out (close_window)."""

from __future__ import annotations

from dataclasses import replace

from ...schema.readers._prisma_map import field_names, find_arg, str_attr
from ...schema.readers._prisma_parse import Call, Ident
from ._prisma_edits import edit, edit_drop_column
from ._prisma_schema import Attr, Cannot, Doc, attr_text

__all__ = ["close_window", "edit_window"]


def _ignored(attrs) -> bool:
    return any(a.name == "ignore" for a in attrs)


def _keys(block, f) -> list:
    """The relation fields whose `fields:` list `f`."""
    return [x for x in block.fields for a in x.attrs
            if a.name == "relation" and f.name in field_names(find_arg(a.args, "fields"))]


def _old_column(doc: Doc, op) -> None:
    """A rename's window: the field renamed as the contract leaves it, and the old column (still
    there, written by the sync trigger) as a field of its own, optional (a required ignored field
    would take `create` from the client) and ignored, with copies of its indexes."""
    block = doc.model(op.table)
    f = doc.field(block, op.column)
    taken = {x.name for x in block.fields}
    name = next(n for n in (f"flux_old_{f.name}", f"flux_old_{f.name}_{op.column}", f"flux_old_{f.name}_1")
                if n not in taken)
    old = replace(f, name=name, optional=f.optional or not f.is_list,
                  attrs=[a for a in f.attrs if a.name not in ("map", "id", "updatedAt")]
                  + [Attr("map", [(None, op.column)]), Attr("ignore", [])])
    line = doc.field_text(old, doc.line(f.line))
    attrs = [(n, a) for n, a in doc.block_attr_lines(block)
             if a.name in ("index", "unique") and f.name in field_names(find_arg(a.args, "fields", 0))]
    edit(doc, op)
    block = doc.model(op.table)
    doc.insert(doc.field(block, op.new_name).line + 1, line)
    for _, a in attrs:  # the old column's indexes are still there
        args = [(k, [_renamed(x, f.name, name) for x in v] if (k in (None, "fields") and isinstance(v, list)) else v)
                for k, v in a.args if k != "map"]
        doc.add_member(doc.model(op.table), attr_text(Attr(a.name, args), "@@"), attribute=True)


def _renamed(item, old: str, new: str):
    """An index's field (an Ident, or a Call with its options) named `new` where it names `old`."""
    return item._replace(name=new) if isinstance(item, (Ident, Call)) and item.name == old else item


def edit_window(doc: Doc, op) -> bool:
    """`op` as the database stands between the code deploy and the contract, where that differs
    from after it; False where the op has no window (then edit() describes both)."""
    if op.op in ("drop_column", "rename_column"):
        block = doc.model(op.table)
        f = doc.field(block, op.column)
        if _keys(block, f) or any(a.name == "id" for a in f.attrs):
            return False  # a key: the op's own edit says what to do
        if op.op == "rename_column":
            _old_column(doc, op)
            return True
        f.optional = f.optional or not f.is_list  # the expand allowed NULL
        f.attrs = f.attrs if _ignored(f.attrs) else [*f.attrs, Attr("ignore", [])]
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


def close_window(doc: Doc, op) -> bool:
    """The contract's edit of `op` made where its window edit stands (the `@ignore`d field of the
    dropped or renamed-away column, the `@@ignore`d model); False where it does not (not windowed,
    or edited by hand since)."""
    try:
        block = doc.model(op.table)
        if op.op in ("drop_column", "rename_column"):
            f = doc.field(block, op.column)
            marked = _ignored(f.attrs) and (str_attr(f.attrs, "map") or f.name) == op.column
        else:
            marked = op.op == "drop_table" and _ignored(block.attrs)
    except Cannot:
        return False
    if marked and op.op == "drop_table":
        edit(doc, op)
    elif marked:
        edit_drop_column(doc, op)
    return marked
