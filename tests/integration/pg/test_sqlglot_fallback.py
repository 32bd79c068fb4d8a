"""Where the pglast wheel is missing, sqlglot stands in for expressions, types
and quoting. Run the planner with pglast hidden and compare with pglast."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from shop import ROOT

SCRIPT = textwrap.dedent("""
    import json, sys
    if sys.argv[1] == "hide":
        sys.modules["pglast"] = None  # import pglast now raises ImportError
    sys.path.insert(0, %r)
    from flux_agent.pg import parse as sql, quote, types as postgres
    from flux_agent.errors import FluxInputError
    out = {"have_pglast": sql.HAVE_PGLAST}
    out["types"] = [postgres.type_name(t) for t in
                    ["varchar(255)", "int", "bigint", "text", "timestamptz", "numeric(10,2)", "uuid", "jsonb"]]
    out["quote"] = [quote.ident(n) for n in ["users", "User", "select", 'a"b']]
    out["volatile"] = [postgres.is_volatile(e) for e in ["0", "'x'", "gen_random_uuid()", "random()"]]
    out["refs"] = sorted(sql.column_refs(sql.parse_expr("lower(email) || name")))
    try:
        sql.expr("1; DROP TABLE users")
        out["injection"] = "accepted"
    except FluxInputError:
        out["injection"] = "refused"
    print(json.dumps(out))
""") % str(ROOT)


def _run(mode: str) -> dict:
    import json
    res = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


def test_sqlglot_fallback_matches_pglast():
    real, fallback = _run("keep"), _run("hide")
    assert real["have_pglast"] is True and fallback["have_pglast"] is False
    assert fallback["types"] == real["types"]
    assert fallback["volatile"] == real["volatile"] == [False, False, True, True]
    assert fallback["refs"] == real["refs"] == ["email", "name"]
    assert fallback["injection"] == real["injection"] == "refused"
    # quoting: what pglast leaves bare, the fallback leaves bare or quotes (never the reverse)
    for mine, ref in zip(fallback["quote"], real["quote"]):
        assert mine == ref or (mine.startswith('"') and ref.startswith('"'))
