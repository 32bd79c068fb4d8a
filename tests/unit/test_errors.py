"""One place turns any error into the line and exit code every surface shows."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from flux_agent.errors import FluxInputError, FluxInternalError, error_line, one_line


class _Args(BaseModel):
    n: int


def test_every_line_break_becomes_a_space():
    text = "a\nb\rc\x0bd\x0ce\x1cf\x1dg\x1eh\x85i\u2028j\u2029k"
    assert one_line(text) == "a b c d e f g h i j k"
    assert len(one_line(text).splitlines()) == 1


def test_kinds_of_error_and_their_exit_codes():
    assert error_line(FluxInputError("unknown table 'x'")) == ("unknown table 'x'", 2)
    assert error_line(FluxInternalError("replay crashed"))[1] == 3
    with pytest.raises(ValidationError) as bad:
        _Args(n="\x85 not a number")
    line, code = error_line(bad.value)
    assert code == 2 and line.startswith("invalid argument n:") and len(line.splitlines()) == 1
    assert error_line(OSError(36, "File name too long", "x" * 300))[1] == 2
    line, code = error_line(KeyError("boom"), "plan_migration")
    assert code == 3 and "internal error in plan_migration: KeyError" in line and "report" in line


def test_cli_internal_error_is_exit_3_with_one_line(monkeypatch, capsys, tmp_path):
    from flux_agent.entry import actions, cli

    def broken(*a, **k):
        raise KeyError("a bug")

    monkeypatch.setattr(actions, "detect_tooling", broken)
    assert cli.main(["detect", "--project", str(tmp_path), "--json"]) == 3
    out, err = capsys.readouterr()
    assert err.startswith("flux: internal error") and len(err.splitlines()) == 1
    assert json.loads(out) == {"error": err[len("flux: "):].strip(), "exit": 3}
