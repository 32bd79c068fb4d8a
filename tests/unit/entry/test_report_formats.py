"""`flux validate --format sarif|github` on real findings: the SARIF log read back by sarif-pydantic's
SARIF 2.1.0 model (no property outside it, every result's rule id, message, file and line those of
its finding, its rule index pointing at its rule's descriptor), the annotations read back into the
findings they came from, escapes undone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from pydantic import BaseModel
from sarif_pydantic import Sarif

from flux_agent.entry.cli import main
from flux_agent.entry.report_formats import github_annotations
from flux_agent.entry.report_sarif import sarif_log
from flux_agent.entry.validate import validate_paths
from flux_agent.lint.rules import BY_ID
from flux_agent.model.plan import FileFinding

FILES = {
    "001_users.sql": "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100));\n",
    # an error (no CONCURRENTLY) on line 3, and an unknown column
    "002 index, users.sql": "SET lock_timeout = '1s';\nSET statement_timeout = '5s';\n"
                            "CREATE INDEX users_email_idx ON users (emial);\n",
    "003_broken.sql": "CREATE TABLE (;\n",  # the engine's own syntax-error: no declared rule
}


@pytest.fixture
def findings(tmp_path, monkeypatch) -> list[FileFinding]:
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name, sql in FILES.items():
        (folder / name).write_text(sql)
    monkeypatch.chdir(tmp_path)
    _, found = validate_paths(["migrations"], "migrations")
    assert {f.rule for f in found} >= {"require-concurrent-index-creation", "unknown-table-or-column",
                                       "syntax-error", "prefer-text-field"}
    return found


def no_extras(model: BaseModel, where: str = "log") -> None:
    """sarif-pydantic keeps unknown properties (extra="allow"): a misspelt one would pass unseen."""
    assert not model.model_extra, f"{where}: not SARIF 2.1.0: {sorted(model.model_extra)}"
    for name, value in model:
        for i, item in enumerate(value if isinstance(value, list) else
                                 value.values() if isinstance(value, dict) else [value]):
            if isinstance(item, BaseModel):
                no_extras(item, f"{where}.{name}[{i}]")


def read_back(text: str) -> Sarif:
    log = Sarif.model_validate_json(text)
    no_extras(log)
    assert log.version == "2.1.0" and json.loads(text)["$schema"].endswith("sarif-2.1.0.json")
    return log


def test_sarif_results_are_the_findings(findings, tmp_path):
    log = read_back(sarif_log(findings, cwd=tmp_path, version="9.9").dump())
    (run,) = log.runs
    assert run.tool.driver.name == "flux" and run.tool.driver.version == "9.9"
    assert run.original_uri_base_ids["SRCROOT"].uri == tmp_path.as_uri() + "/"
    rules = run.tool.driver.rules
    assert len({r.id for r in rules}) == len(rules) == len({f.rule for f in findings})
    assert len(run.results) == len(findings)
    for result, finding in zip(run.results, findings):
        assert result.rule_id == finding.rule and rules[result.rule_index].id == finding.rule
        assert result.level.value == finding.severity
        assert result.message.text == (f"{finding.message} ({finding.hint})" if finding.hint else finding.message)
        (where,) = result.locations
        assert where.physical_location.artifact_location.uri_base_id == "SRCROOT"
        assert unquote(where.physical_location.artifact_location.uri) == f"migrations/{Path(finding.path).name}"
        assert where.physical_location.region.start_line == finding.line >= 1
    index = next(r for r in run.results if r.rule_id == "require-concurrent-index-creation")
    assert index.locations[0].physical_location.artifact_location.uri == "migrations/002%20index%2C%20users.sql"
    assert index.locations[0].physical_location.region.start_line == 3
    declared = {r.id: r for r in rules}
    rule = BY_ID["require-concurrent-index-creation"]
    assert declared[rule.id].short_description.text == rule.message
    assert declared[rule.id].help.text == rule.hint
    assert declared[rule.id].default_configuration.level == "error"
    assert declared["syntax-error"].short_description.text.startswith("cannot parse the SQL")


def test_a_file_outside_the_working_folder_is_a_file_uri(tmp_path):
    elsewhere = tmp_path / "other" / "x.sql"
    found = [FileFinding(path=str(elsewhere), line=0, rule="not-analysed", severity="warning", message="m")]
    log = read_back(sarif_log(found, cwd=tmp_path / "work").dump())
    location = log.runs[0].results[0].locations[0].physical_location
    assert location.artifact_location.uri == elsewhere.as_uri() and location.artifact_location.uri_base_id is None
    assert location.region.start_line == 1  # SARIF lines start at 1; a whole-file finding stands on the first


def test_no_findings_is_an_empty_run(tmp_path):
    (run,) = read_back(sarif_log([], cwd=tmp_path).dump()).runs
    assert run.results == [] and run.tool.driver.rules == []


def test_cli_prints_sarif_and_keeps_the_exit_code(findings, capsys):
    assert main(["validate", "migrations", "--format", "sarif"]) == 1  # error findings: refused, as in text
    out, err = capsys.readouterr()
    assert err == ""
    results = read_back(out).runs[0].results
    assert [(r.rule_id, r.locations[0].physical_location.region.start_line) for r in results] == [
        (f.rule, max(1, f.line)) for f in findings]
    assert main(["validate", "migrations", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == [f.model_dump() for f in findings]


ANNOTATION = re.compile(r"^::(error|warning) file=([^,:]*),line=(\d+),title=([^,:]*)::(.*)$")


def unescape(text: str) -> str:
    return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",")
            .replace("%25", "%"))


def test_github_annotations_read_back_into_the_findings(findings, tmp_path, capsys):
    odd = FileFinding(path="migrations/a,b:c%.sql", line=7, rule="r", severity="error",
                      message="100% sure:\nline two, ok", hint="")
    lines = github_annotations([*findings, odd], cwd=tmp_path)
    assert len(lines) == len(findings) + 1
    for line, finding in zip(lines, [*findings, odd]):
        match = ANNOTATION.match(line)
        assert match, line
        level, path, number, title, message = match.groups()
        assert level == finding.severity and int(number) == max(1, finding.line)
        assert unescape(path) == f"migrations/{Path(finding.path).name}"
        assert unescape(title) == f"flux {finding.rule}"
        assert unescape(message) == (f"{finding.message} ({finding.hint})" if finding.hint else finding.message)
    assert main(["validate", "migrations", "--format", "github"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == lines[:-1] and out[-1].startswith("flux: 3 file(s) checked: ")


def test_json_and_another_format_is_bad_input(findings, capsys):
    assert main(["validate", "migrations", "--json", "--format", "github"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["exit"] == 2 and err.startswith("flux: --json and --format github")


def test_paths_are_the_checkouts_when_flux_runs_in_a_subfolder(tmp_path, monkeypatch):
    """netbox's manage.py sits in netbox/: run there, `file=circuits/migrations/...` and a SARIF root of
    netbox/netbox/ attached to no line of the pull request, which GitHub reads from the checkout."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "netbox" / "circuits" / "migrations").mkdir(parents=True)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    found = [FileFinding(path="circuits/migrations/0001_x.py", line=3, rule="not-analysed", severity="warning",
                         message="m", hint="h")]
    here = repo / "netbox"
    assert "file=netbox/circuits/migrations/0001_x.py," in github_annotations(found, cwd=here)[0]
    (run,) = read_back(sarif_log(found, cwd=here).dump()).runs
    uri = run.results[0].locations[0].physical_location.artifact_location.uri
    assert unquote(uri) == "netbox/circuits/migrations/0001_x.py"
    assert run.original_uri_base_ids["SRCROOT"].uri == repo.as_uri() + "/"
    monkeypatch.setenv("GITHUB_WORKSPACE", str(here))  # Actions says where the checkout is: that wins
    assert "file=circuits/migrations/0001_x.py," in github_annotations(found, cwd=here)[0]
