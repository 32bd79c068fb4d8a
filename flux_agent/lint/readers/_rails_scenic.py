"""The scenic gem's view calls in a Rails migration (create_view, drop_view, update_view,
replace_view) as the SQL its PostgreSQL adapter sends, each view's definition read from the app's
db/views/<name>_v<NN>.sql as scenic reads it, and for a `change` what scenic's command recorder
inverts them to (a drop or an update without revert_to_version cannot be inverted)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ...pg.quote import qname
from ...schema.readers._ruby import Call, Num
from ._rails_sql import Unreadable, require_static, ruby_name

CALLS = ("create_view", "drop_view", "update_view", "replace_view")
Made = tuple[list[tuple[str, int]], Optional[list[str]]]  # as Dsl.call gives: (SQL, line) pieces, the undo


def scenic_call(c: Call, views: Optional[Path]) -> Made:
    """The SQL of one scenic call (`c.name` in CALLS); `views`: the app's db/views folder."""
    if not c.args:
        raise Unreadable(f"{c.name} without a view name")

    def definition(version, of: Optional[str] = None) -> str:
        """The SQL of version `version` of view `of` (this call's by default): db/views/<name>_v<NN>.sql."""
        if version is None:
            raise Unreadable(f"{c.name} of {name} names no version")
        number = int(version) if isinstance(version, Num) else int(str(version))
        file = views / f"{of or name}_v{number:02d}.sql" if views is not None else None
        try:
            return file.read_text(encoding="utf-8") if file is not None else ""
        except (OSError, UnicodeDecodeError):
            raise Unreadable(f"scenic's definition {file} is not there") from None

    name, o = ruby_name(c.args[0]), dict(c.kwargs)
    given = o.get("sql_definition")
    if isinstance(given, Call) and given.name.endswith("Scenic::Definition.new") and given.then == ("to_sql",):
        # the definition file of a view's version, as scenic's own Definition reads it (mastodon's
        # update_account_summaries_to_version_3 makes a temporary view from account_summaries' v3)
        require_static(given.args)
        if len(given.args) != 2 or given.kwargs:
            raise Unreadable("Scenic::Definition.new takes a view's name and a version")
        o["sql_definition"] = definition(given.args[1], ruby_name(given.args[0]))
    require_static(c.args)
    require_static(o)
    kind = "MATERIALIZED VIEW" if o.get("materialized") else "VIEW"
    no_data = isinstance(o.get("materialized"), dict) and bool(o["materialized"].get("no_data"))

    def create(sql_definition: str) -> str:
        body = sql_definition.rstrip().rstrip(";")
        if kind == "VIEW":
            return f"CREATE VIEW {qname(name)} AS {body}"
        return f"CREATE MATERIALIZED VIEW {qname(name)} AS\n{body}" + ("\nWITH NO DATA" if no_data else "")

    drop = f"DROP {kind} {qname(name)}"
    given = o.get("sql_definition")
    if c.name == "create_view":  # neither a version nor a definition: scenic takes version 1
        sql = create(given if isinstance(given, str) else definition(o.get("version", 1)))
        return [(sql, c.line)], [drop]
    if c.name == "drop_view":
        revert = o.get("revert_to_version")
        return [(drop, c.line)], None if revert is None else [create(definition(revert))]
    new = given if isinstance(given, str) else definition(o.get("version"))
    revert = o.get("revert_to_version")
    if c.name == "replace_view":  # CREATE OR REPLACE: the columns kept, more may come at the end
        if kind != "VIEW":
            raise Unreadable("replace_view of a materialized view (scenic refuses it)")
        undo = None if revert is None else [f"CREATE OR REPLACE VIEW {qname(name)} AS {definition(revert).rstrip().rstrip(';')}"]
        return [(f"CREATE OR REPLACE VIEW {qname(name)} AS {new.rstrip().rstrip(';')}", c.line)], undo
    # update_view: dropped and made again (a materialized view's indexes are made again after it by
    # scenic, from the catalogs: on a view no other session has seen yet, so nothing waits on them)
    undo = None if revert is None else [drop, create(definition(revert))]
    return [(drop, c.line), (create(new), c.line)], undo
