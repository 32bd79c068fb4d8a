"""`flux verify` with no operations runs the pending plan; where the newest plan is written whole
(paperless-ngx after `flux continue`), it said there was no pending plan, as if none had been
written: the line now names the plan and when verify runs one."""

import json
import shutil

from flux_agent.entry.cli import main

from shop import ROOT


def test_verify_names_a_plan_written_whole(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FLUX_DEVDB", "off")
    project = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", project)
    assert main(["verify", "--project", str(project)]) == 2
    assert "no pending plan in .flux/plans/" in capsys.readouterr().err
    op = {"op": "add_column", "table": "users", "column": "nickname", "type": "text"}
    assert main(["plan", "--project", str(project), "--op", json.dumps(op), "--write"]) == 0
    capsys.readouterr()
    assert main(["verify", "--project", str(project)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("flux: nothing to verify: the newest plan, .flux/plans/") and "is written whole" in err
    assert "\n" not in err
