"""A trigger whose function refreshes a materialized view: every write to the table recomputes the
whole view inside the writer's transaction and locks it until that commits, so writes to the table
queue behind one another and reads of the view wait (upchieve refreshed a view of every user's
subjects on each row written to users_certifications). The function is read where the file makes it
before the trigger."""

from __future__ import annotations

from typing import Optional

from pglast import ast

from ...pg.quote import relation_name
from ._rule import Rule, Verdict, flags, passes

_TABLES = ("CREATE TABLE certs (id bigint PRIMARY KEY, user_id bigint NOT NULL, subject text NOT NULL);\n"
           "CREATE MATERIALIZED VIEW user_subjects AS SELECT user_id, array_agg(subject) AS subjects "
           "FROM certs GROUP BY user_id;\n")
_REFRESH = ("CREATE FUNCTION refresh_user_subjects() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n  REFRESH MATERIALIZED VIEW user_subjects;\n  RETURN NEW;\nEND;\n$$;\n")

RULE = Rule(
    id="refresh-in-trigger",
    severity="warning",
    message="a trigger refreshes a materialized view on every write to its table",
    hint="refresh on a schedule or from a job (pg_cron, the application's worker), CONCURRENTLY; or keep a "
         "summary table up to date row by row in the trigger instead",
    squawk=None,
    nodes=(ast.CreateTrigStmt,),
    examples=[
        flags(_TABLES + _REFRESH + "CREATE TRIGGER certs_changed AFTER INSERT OR UPDATE OR DELETE ON certs\n"
              "    FOR EACH ROW EXECUTE FUNCTION refresh_user_subjects();"),
        flags(_TABLES + _REFRESH + "CREATE TRIGGER certs_changed AFTER INSERT ON public.certs\n"
              "    FOR EACH STATEMENT EXECUTE PROCEDURE public.refresh_user_subjects();",
              why="once per statement is still once per write"),
        passes(_TABLES + "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
               "BEGIN\n  NEW.subject := lower(NEW.subject);\n  RETURN NEW;\nEND;\n$$;\n"
               "CREATE TRIGGER certs_touch BEFORE INSERT ON certs FOR EACH ROW EXECUTE FUNCTION touch();"),
        passes(_TABLES + _REFRESH + "CREATE TRIGGER certs_changed AFTER INSERT ON certs\n"
               "    FOR EACH ROW EXECUTE FUNCTION other.refresh_user_subjects();",
               why="another schema's function of that name, not the one made here"),
        passes(_TABLES + _REFRESH, why="a function no trigger calls: a job may run it"),
    ],
)


def check(stmt, ctx) -> Optional[Verdict]:
    node = stmt.node
    if not isinstance(node, ast.CreateTrigStmt):
        return None
    function = _made_before(ctx, stmt, _names(node.funcname))
    refresh = next((s.node for s in _runs(function) if isinstance(s.node, ast.RefreshMatViewStmt)), None)
    if refresh is None:
        return None
    table, view = relation_name(node.relation), relation_name(refresh.relation)
    lock = "EXCLUSIVE" if refresh.concurrent else "ACCESS EXCLUSIVE"
    readers = "" if refresh.concurrent else f", and reads of {view} wait"
    return Verdict(f"trigger {node.trigname} on {table} refreshes materialized view {view} after each "
                   f"{'row' if node.row else 'statement'} written: every write to {table} recomputes the whole "
                   f"view inside the writing transaction and holds {lock} on {view} until that commits, so writes to "
                   f"{table} queue behind one another{readers}")


def _names(parts) -> tuple[str, ...]:
    return tuple(p.sval for p in parts or () if isinstance(p, ast.String))


def _made_before(ctx, stmt, wanted: tuple[str, ...]):
    """The last CREATE FUNCTION of the file before `stmt` making the function `wanted` names (a name
    without a schema is public's, as the usual search path makes and finds it)."""
    def key(names: tuple[str, ...]) -> tuple[str, str]:
        return (names[-2] if len(names) > 1 else "public", names[-1] if names else "")

    for earlier in reversed(ctx.statements[:stmt.index]):
        if isinstance(earlier.node, ast.CreateFunctionStmt) and key(_names(earlier.node.funcname)) == key(wanted):
            return earlier
    return None


def _runs(function) -> list:
    """The statements the function's PL/pgSQL body runs (lint/do_blocks.py reads them as a DO block's)."""
    if function is None:
        return []
    from ..do_blocks import inner_statements

    found = function.memo.get("runs")
    if found is None:
        found = function.memo["runs"] = inner_statements(function)[0]
    return found
