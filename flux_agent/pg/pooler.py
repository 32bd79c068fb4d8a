"""What in a step's SQL keeps session state past its own transaction, which a transaction
pooler (PgBouncer in `pool_mode = transaction`) drops or hands to another client.

Under transaction pooling every transaction may run on a different server connection, and
what one transaction leaves in its session (a plain `SET`, `set_config(..., false)`, a
session advisory lock, a prepared statement, a held cursor, a temporary table, LISTEN) stays
on that server connection for whichever client gets it next. `SET LOCAL` inside the step's
own transaction, or inside the statement's own DO block, ends with the transaction and is safe.
Read from pglast's parse trees, DO bodies through PL/pgSQL's own parser.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from pglast import parse_plpgsql
from pglast.parser import ParseError, parse_sql_json

# Session-level forms and why each outlives its transaction; the _xact_ lock functions are safe.
_SESSION_FUNCTIONS = {
    "pg_advisory_lock": "a session advisory lock is held after COMMIT",
    "pg_advisory_lock_shared": "a session advisory lock is held after COMMIT",
    "pg_try_advisory_lock": "a session advisory lock is held after COMMIT",
    "pg_try_advisory_lock_shared": "a session advisory lock is held after COMMIT",
}
_HOLD = 0x0020  # CURSOR_OPT_HOLD in PostgreSQL's parsenodes.h


def session_state(sql: str) -> list[str]:
    """One line per statement in `sql` (DO bodies included) whose effect outlives its
    transaction; empty when every setting is SET LOCAL and nothing else lingers."""
    found: list[str] = []
    for stmt in _statements(sql):
        found += _judge(stmt)
    return list(dict.fromkeys(found))


def _statements(sql: str) -> list[dict]:
    try:
        return [s.get("stmt", {}) for s in json.loads(parse_sql_json(sql)).get("stmts", [])]
    except ParseError:
        return []  # SQL PostgreSQL cannot parse is another rule's finding, not this one's


def _judge(stmt: dict) -> list[str]:
    out: list[str] = []
    for key, node in _walk(stmt):
        if key == "VariableSetStmt" and node.get("name") and not node.get("is_local"):
            verb = "RESET" if node.get("kind") == "VAR_RESET" else "SET"
            out.append(f"{verb} {node['name']} without LOCAL: the setting stays on the pooled server connection")
        elif key == "FuncCall":
            name = _func_name(node)
            if name in _SESSION_FUNCTIONS:
                out.append(f"{name}(): {_SESSION_FUNCTIONS[name]}")
            elif name == "set_config" and len(node.get("args", [])) == 3 and _false(node["args"][2]):
                out.append("set_config(..., false): the setting stays on the pooled server connection")
        elif key == "PrepareStmt":
            out.append(f"PREPARE {node.get('name')}: the prepared statement belongs to one server connection")
        elif key == "ListenStmt":
            out.append(f"LISTEN {node.get('conditionname')}: notifications go to whichever client holds the connection")
        elif key == "DeclareCursorStmt" and int(node.get("options", 0)) & _HOLD:
            out.append(f"DECLARE {node.get('portalname')} ... WITH HOLD: the cursor outlives the transaction")
        elif key in ("CreateStmt", "CreateTableAsStmt") and _temporary(node):
            out.append("a temporary table outlives the transaction (only ON COMMIT DROP ends with it)")
        elif key == "DoStmt":
            out += [f"in a DO block: {line}" for line in _do_body(node)]
    return out


def _walk(node: Any) -> Iterator[tuple[str, dict]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict):
                yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _func_name(node: dict) -> str:
    parts = [p.get("String", {}).get("sval", "") for p in node.get("funcname", [])]
    return parts[-1].lower() if parts else ""


def _false(arg: dict) -> bool:
    const = arg.get("A_Const") or {}
    if "boolval" in const:
        return not const["boolval"].get("boolval", False)
    return const.get("sval", {}).get("sval", "").lower() in ("false", "f", "off", "no", "0")


def _temporary(node: dict) -> bool:
    rel = node.get("relation") or node.get("into", {}).get("rel") or {}
    return rel.get("relpersistence") == "t" and node.get("oncommit") != "ONCOMMIT_DROP"


def _do_body(node: dict) -> list[str]:
    opts = {a["DefElem"]["defname"]: a["DefElem"].get("arg", {}).get("String", {}).get("sval")
            for a in node.get("args", []) if "DefElem" in a}
    if (opts.get("language") or "plpgsql").lower() != "plpgsql" or not opts.get("as"):
        return []
    tag = "$flux_do$"
    try:
        tree = parse_plpgsql(f"CREATE FUNCTION flux_do() RETURNS void LANGUAGE plpgsql AS {tag}{opts['as']}{tag}")
    except ParseError:
        return []
    out: list[str] = []
    for key, expr in _walk(tree):
        if key != "PLpgSQL_expr" or not expr.get("query"):
            continue
        query = expr["query"] if expr.get("parseMode", 0) == 0 else f"SELECT {expr['query']}"
        for stmt in _statements(query):
            out += _judge(stmt)
    return out
