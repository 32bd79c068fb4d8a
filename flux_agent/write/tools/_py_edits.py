"""Python source edited in place by the positions `ast` gives (django models.py, SQLAlchemy and
SQLModel classes, alembic's env.py): a node replaced, an item added to or taken from a list, a
statement inserted or removed, a keyword argument set, the rest of the file as it was (comments,
line breaks, quotes)."""

from __future__ import annotations

import ast


def offset(text: str, line: int, col: int) -> int:
    """The character offset of ast's (1-based line, UTF-8 byte column) in `text`."""
    lines = text.splitlines(keepends=True)
    start = sum(len(x) for x in lines[:line - 1])
    return start + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8")) if line <= len(lines) else start


def span(text: str, node: ast.AST) -> tuple[int, int]:
    return offset(text, node.lineno, node.col_offset), offset(text, node.end_lineno, node.end_col_offset)


def replace_node(text: str, node: ast.AST, new: str) -> str:
    start, end = span(text, node)
    return text[:start] + new + text[end:]


def replace_nodes(text: str, edits: list[tuple[ast.AST, str]]) -> str:
    """Each (node, new source) of `edits` made in `text`: the last first, so the earlier offsets stay right."""
    for node, new in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        text = replace_node(text, node, new)
    return text


def append_item(text: str, seq: ast.List | ast.Tuple, item: str) -> str:
    """`item` (source) added at the end of the list or tuple `seq`, the rest of its source as it
    was (comments, line breaks, a trailing comma): on a line of its own, indented as the last item,
    where the items stand one per line."""
    if not seq.elts:
        return replace_node(text, seq, f"[{item}]" if isinstance(seq, ast.List) else f"({item},)")
    last = seq.elts[-1]
    end = offset(text, last.end_lineno, last.end_col_offset)
    rest = text[end:]
    had_comma = rest.lstrip(" \t").startswith(",")
    close = offset(text, seq.end_lineno, seq.end_col_offset) - 1  # the closing bracket
    line_end = text.find("\n", end)
    if last.lineno == seq.lineno or line_end < 0 or close < line_end:  # `[a, b]`, `[\n a,\n b]`: inline
        return text[:end] + f", {item}" + text[end:]
    pad = text[offset(text, last.lineno, 0): offset(text, last.lineno, last.col_offset)]
    # A line of its own after the last item's line (its comment stays with it), the file's trailing comma kept.
    text = text if had_comma else text[:end] + "," + text[end:]
    line_end = text.find("\n", end)
    return text[:line_end + 1] + f"{pad}{item}{',' if had_comma else ''}\n" + text[line_end + 1:]


def remove_item(text: str, seq: ast.List | ast.Tuple, item: ast.expr) -> str:
    """The list or tuple `seq` without `item`, the rest of its source as it was."""
    elts = seq.elts
    i = elts.index(item)
    if len(elts) == 1:
        return replace_node(text, seq, "[]" if isinstance(seq, ast.List) else "()")
    if i + 1 < len(elts):  # up to the next item: its comma, line break and indentation go with it
        return text[:span(text, item)[0]] + text[span(text, elts[i + 1])[0]:]
    return text[:span(text, elts[i - 1])[1]] + text[span(text, item)[1]:]  # the last: from the one before


def str_source(text: str, value: str) -> str:
    """`value` as a Python string in the quotes `text` mostly uses (black's double quotes, or single)."""
    if text.count('"') > text.count("'") and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return repr(value)


def insert_after(text: str, node: ast.stmt, lines: list[str]) -> str:
    """`lines` (already indented) as whole lines after the statement `node` ends."""
    end = offset(text, node.end_lineno, node.end_col_offset)
    nl = text.find("\n", end)
    cut = len(text) if nl < 0 else nl + 1
    head = text[:cut] if text[:cut].endswith("\n") else text[:cut] + "\n"
    return head + "".join(line + "\n" for line in lines) + text[cut:]


def indent_of(text: str, node: ast.stmt) -> str:
    line = text.splitlines()[node.lineno - 1]
    return line[: len(line) - len(line.lstrip())]


def remove_stmt(text: str, node: ast.stmt) -> str | None:
    """`text` without the lines of the statement `node`; None when it shares a line with other code."""
    lines = text.splitlines(keepends=True)
    first, last = lines[node.lineno - 1], lines[node.end_lineno - 1]
    before = first.encode("utf-8")[:node.col_offset].decode("utf-8")
    after = last.encode("utf-8")[node.end_col_offset:].decode("utf-8").strip()
    if before.strip() or (after and not after.startswith("#")):
        return None
    return "".join(lines[:node.lineno - 1] + lines[node.end_lineno:])


def with_kwarg(text: str, call: ast.Call, name: str, value: str | None) -> str:
    """`text` with the call's keyword `name` set to the source `value` (added at the end when
    missing), or removed when `value` is None (the call is then written anew by ast.unparse)."""
    have = next((k for k in call.keywords if k.arg == name), None)
    if value is None:
        if have is None:
            return text
        parts = [ast.unparse(a) for a in call.args] + [ast.unparse(k) for k in call.keywords if k is not have]
        return replace_node(text, call, f"{ast.unparse(call.func)}({', '.join(parts)})")
    if have is not None:
        return replace_node(text, have.value, value)
    added = kwarg_added(text, call, name, value)
    if added is not None:
        return replace_node(text, *added)
    at = offset(text, call.end_lineno, call.end_col_offset) - 1  # the closing parenthesis
    return text[:at] + f"{name}={value}" + text[at:]


def kwarg_added(text: str, call: ast.Call, name: str, value: str) -> tuple[ast.AST, str] | None:
    """The call's last argument and its source followed by `name=value`, as the call is laid out:
    on a line of its own, indented alike, where the arguments go a line each (a call written over
    several lines); None for a call without arguments."""
    items = [*call.args, *(k.value for k in call.keywords)]
    if not items:
        return None
    last = max(items, key=lambda n: (n.end_lineno, n.end_col_offset))
    source = ast.get_source_segment(text, last)
    if last.lineno > call.lineno:
        line = text.splitlines()[last.lineno - 1]
        return last, f"{source},\n{line[:len(line) - len(line.lstrip())]}{name}={value}"
    return last, f"{source}, {name}={value}"
