"""`flux verify` with no operations and no plan written says so in one line, naming what to do; a plan
written whole is verified (tests/integration/verify/test_verify.py)."""

import shutil

from flux_agent.entry.cli import main

from shop import ROOT


def test_verify_with_nothing_written_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FLUX_DEVDB", "off")
    project = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", project)
    assert main(["verify", "--project", str(project)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no pending plan in .flux/plans/" in err and "\n" not in err
