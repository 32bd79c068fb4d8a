"""The statements a DO block runs, for the rules to judge as the file's own: PL/pgSQL's static SQL
and EXECUTE of a constant string, in every branch and loop (not exception handlers, which run only
on an error), each at its line of the file; and the lines of EXECUTEs of SQL built at run time,
which nothing can judge. A DO block was passed over whole: `CREATE INDEX` inside one blocked writes
unseen (netbox renames its indexes so; drizzle wraps its foreign keys so)."""

from __future__ import annotations

from typing import Optional

from ..pg.parse import ParseError, ast, parse_sql, pglast
from ..pg.split import Statement


UNPARSED = "a DO block whose PL/pgSQL does not parse"
DYNAMIC = "EXECUTE of SQL built at run time inside a DO block"


def inner_statements(stmt: Statement) -> tuple[list[Statement], list[tuple[int, str]]]:
    """(the statements `stmt`, a DO block, runs, each at its line; what no rule can read, at its line:
    EXECUTEs of SQL built at run time, or the whole block where PL/pgSQL's parser refuses it). Nothing
    for a body in another language."""
    try:
        tree = pglast.parse_plpgsql(stmt.text)
    except Exception:  # LANGUAGE plperl, or PL/pgSQL PostgreSQL refuses too when the block runs
        return [], ([(stmt.line, UNPARSED)] if _language(stmt) == "plpgsql" else [])
    found: list[tuple[int, str, bool]] = []  # (line in the block, SQL, inside a loop)
    dynamic: list[tuple[int, str]] = []
    variables: set[str] = set()  # the block's own names: `WHERE id > last_id` reads no column last_id

    def walk(node, looping: bool) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, looping)
        elif isinstance(node, dict):
            if "PLpgSQL_stmt_execsql" in node:
                inner = node["PLpgSQL_stmt_execsql"]
                found.append((inner.get("lineno", 1), inner["sqlstmt"]["PLpgSQL_expr"]["query"], looping))
                return
            if "PLpgSQL_stmt_dynexecute" in node:
                inner = node["PLpgSQL_stmt_dynexecute"]
                text = _constant(inner["query"]["PLpgSQL_expr"]["query"])
                if text is None:
                    dynamic.append((stmt.line + inner.get("lineno", 1) - 1, DYNAMIC))
                else:
                    found.append((inner.get("lineno", 1), text, looping))
                return
            for key, value in node.items():
                if key == "refname" and isinstance(value, str):
                    variables.add(value)
                elif key != "exceptions":  # a handler's statements run only when the block failed
                    walk(value, looping or key in _LOOPS)

    walk(tree, False)
    out: list[Statement] = []
    for lineno, sql, looping in found:
        try:
            raws = parse_sql(sql)
        except ParseError:
            continue  # PostgreSQL refuses it when the block runs; the block itself parsed
        for raw in raws:
            inner = Statement(node=raw.stmt, text=sql, line=stmt.line + lineno - 1, index=0)
            # what the rules read of the block around it: its names, and whether a loop repeats it
            # (a backfill batched by key range, committing per batch, is one UPDATE in a LOOP)
            inner.memo.update(variables=frozenset(variables), in_loop=looping)
            out.append(inner)
    return out, dynamic


def _language(stmt: Statement) -> str:
    """The DO block's LANGUAGE (plpgsql when it names none)."""
    for arg in getattr(stmt.node, "args", None) or ():
        if getattr(arg, "defname", None) == "language":
            return str(getattr(arg.arg, "sval", "")).lower()
    return "plpgsql"


_LOOPS = {"PLpgSQL_stmt_loop", "PLpgSQL_stmt_while", "PLpgSQL_stmt_fori", "PLpgSQL_stmt_fors",
          "PLpgSQL_stmt_forc", "PLpgSQL_stmt_foreach_a", "PLpgSQL_stmt_dynfors"}


def inner_ignores(stmt: Statement) -> list:
    """The ignore comments inside the block's body (Flux's own lock retry wraps a step's statements,
    their comments with them, in a DO block), each at its line of the file (lint/markers.py's)."""
    from .markers import markers

    body = next((a.arg.sval for a in stmt.node.args or () if a.defname == "as" and isinstance(a.arg, ast.String)),
                None)
    at = stmt.text.find(body) if body else -1
    if at < 0:
        return []
    ignores, _ = markers(body, stmt.line - 1 + stmt.text.count("\n", 0, at))
    return [ig for ig in ignores if ig.reason]


def _constant(expr: str) -> Optional[str]:
    """The SQL an EXECUTE runs where its expression is one string constant, else None."""
    try:
        raws = parse_sql(f"SELECT {expr}")
    except ParseError:
        return None
    target = raws[0].stmt.targetList[0].val if len(raws) == 1 and raws[0].stmt.targetList else None
    if isinstance(target, ast.A_Const) and isinstance(target.val, ast.String):
        return target.val.sval
    return None
