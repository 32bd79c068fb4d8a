"""The `flux` command as a new user meets it (issue 12, rough edges): --version,
a bare `flux`, help on every flag, errors as JSON under --json, `plan --sql`,
the summary wrapped to a real terminal (a pty) and whole in a pipe, and a quiet
`verify` when stderr is not a terminal."""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from flux_agent.model.plan import Step
from flux_agent.entry.cli import main
from flux_agent.entry.cli_args import parser as _parser

from shop import ROOT, SHOP

RENAME = {"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}
ADD_INDEX = {"op": "add_index", "table": "orders", "columns": ["user_id"]}


@pytest.fixture
def proj(tmp_path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(SHOP, target)
    return target


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for key in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "COLUMNS", "LINES"):
        env.pop(key, None)
    return env


# --- --version, bare flux, help -----------------------------------------------------------------------

def test_version_prints_the_installed_version(capsys):
    code, out, err = run(capsys, ["--version"])
    assert (code, out, err) == (0, f"flux {version('flux-agent')}\n", "")


def test_bare_flux_prints_usage_and_one_error_line(capsys):
    code, out, err = run(capsys, [])
    assert code == 2
    assert out.startswith("usage: flux")
    for command in ("plan", "continue", "validate", "detect", "schema", "verify", "mcp"):
        assert re.search(rf"^\s+{command}\s", out, re.M), command
    assert "examples:" in out
    assert err.startswith("flux: no command given") and err.count("\n") == 1


def _options(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from ((f"{name} {o}", a) for o, a in _options(sub))
        elif action.option_strings:
            yield "/".join(action.option_strings), action


def test_every_flag_of_every_command_has_help():
    options = list(_options(_parser()))
    assert len(options) > 30  # every subcommand was walked
    missing = [name for name, action in options if not action.help or action.help == argparse.SUPPRESS]
    assert not missing, f"flags without help text: {missing}"


def _all_help() -> str:
    parser = _parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser.format_help() + "".join(p.format_help() for p in subs.choices.values())


def test_help_examples_rename_to_a_new_name():
    renames = re.findall(r"rename (?:column )?(\w+)\.(\w+) to (\w+)", " ".join(_all_help().split()))
    assert renames, "the help shows no rename example"
    assert all(new != old for _, old, new in renames), renames


# --- --json: errors as JSON on stdout, one line on stderr ---------------------------------------------

JSON_ERRORS = [
    ("plan-unknown-table", ["plan", "--op", json.dumps({"op": "drop_table", "table": "customers"})], 2),
    ("plan-unreadable-request", ["plan", "--nl", "frobnicate", "the", "orders", "table"], 2),
    ("plan-unknown-flag", ["plan", "--frobnicate", "--op", json.dumps(ADD_INDEX)], 2),
    ("continue-nothing-pending", ["continue"], 2),
    ("detect-unknown-tool", ["detect", "--tool", "liquibase"], 2),
    ("validate-missing-file", ["validate", "no/such/file.sql"], 2),
]


@pytest.mark.pg
@pytest.mark.parametrize("argv, exit_code", [(a, c) for _, a, c in JSON_ERRORS], ids=[i for i, _, _ in JSON_ERRORS])
def test_json_errors_come_on_stdout_too(proj, capsys, argv, exit_code):
    code, out, err = run(capsys, [*argv, "--project", str(proj), "--json"])
    assert code == exit_code
    assert err.startswith("flux: ") and err.count("\n") == 1
    doc = json.loads(out)  # the whole of stdout is one JSON document
    assert doc == {"error": err[len("flux: "):].rstrip("\n"), "exit": exit_code}


def test_without_json_errors_stay_off_stdout(proj, capsys):
    code, out, err = run(capsys, ["continue", "--project", str(proj)])
    assert code == 2 and out == "" and err.startswith("flux: ")


# --- plan --sql -----------------------------------------------------------------------------------------

@pytest.mark.pg
def test_plan_sql_prints_each_steps_up_and_down_sql_after_the_summary(proj, capsys):
    before = sorted(p.name for p in (proj / "db" / "migrations").iterdir())
    code, out, err = run(capsys, ["plan", "--project", str(proj), "--op", json.dumps(RENAME), "--json"])
    plan = json.loads(out)
    code, out, err = run(capsys, ["plan", "--project", str(proj), "--op", json.dumps(RENAME), "--sql"])
    assert code == 0, err
    assert out.index("Pre-Deploy Checklist") < out.index("-- step 1 (")
    at, deployed = 0, False
    for step in plan["steps"]:
        head = f"-- step {step['number']} ({step['phase']}): "
        at = out.index(head, at)  # in step order
        block = out[at:out.find("\n-- step ", at + 1)]
        if step["phase"] == "code":
            assert "no SQL" in block.splitlines()[0]
            deployed = True
            continue
        if deployed:  # written after the deploy by `flux continue`, under the name it gives then
            assert block.splitlines()[0].endswith("[written by `flux continue`]")
        else:  # the two runs name files by the second they ran in: compare the names after the timestamp
            assert step["files"][0].rpartition("/")[2].partition("_")[2] in block.splitlines()[0]
        as_run = Step.model_validate(step)  # --sql prints the SQL as the files run it (lock retry and all)
        assert f"-- up:\n{as_run.up_file_sql.strip()}\n-- down:\n" in block
        if step["down_sql"]:
            assert as_run.down_file_sql.strip() in block
    assert "Nothing written (dry run)" in out
    assert sorted(p.name for p in (proj / "db" / "migrations").iterdir()) == before
    code, out, err = run(capsys, ["plan", "--project", str(proj), "--op", json.dumps(RENAME)])
    assert "-- up:" not in out  # only when asked


# --- the summary on a terminal and in a pipe ----------------------------------------------------------

def _run_in_pty(argv: list[str], cwd: Path, env: dict) -> str:
    """Run flux with stdout (and stderr) on a pseudo-terminal; its output."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "flux_agent", *argv], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError("flux on a pty gave no output for 60 s")
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=60) == 0, b"".join(chunks).decode(errors="replace")
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def _summary_lines(out: str) -> list[str]:
    lines = out.splitlines()
    return lines[:next(i for i, l in enumerate(lines) if l.startswith("Nothing written"))]


@pytest.mark.pg
def test_summary_wraps_to_the_terminal_width(proj):
    env = dict(_env(), COLUMNS="72")
    out = _run_in_pty(["plan", "--project", str(proj), "--op", json.dumps(RENAME)], proj, env)
    lines = _summary_lines(out)
    assert "…" not in out and 0 < len(lines) <= 40
    for line in lines:
        # only a file name, whole, with its step number and separator may be wider
        tokens = line.split()
        assert len(line) <= 72 or (len(tokens) <= 3 and "db/migrations/" in max(tokens, key=len)), line
    assert any(line.startswith("   ") for line in lines), "no wrapped line hangs under its step"


@pytest.mark.pg
def test_summary_in_a_pipe_keeps_every_line_whole(proj):
    ops = json.dumps(RENAME)
    env = dict(_env(), COLUMNS="40")  # not a terminal: COLUMNS does not apply
    plan = json.loads(subprocess.run([sys.executable, "-m", "flux_agent", "plan", "--project", str(proj), "--op",
                                      ops, "--json"], env=env, capture_output=True, text=True, check=True).stdout)
    out = subprocess.run([sys.executable, "-m", "flux_agent", "plan", "--project", str(proj), "--op", ops],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert "…" not in out
    def unstamped(text: str) -> str:  # the two runs name their files a second apart
        return re.sub(r"\d{14}", "<stamp>", text)

    assert unstamped("\n".join(_summary_lines(out)).strip()) == unstamped(plan["summary"])  # as printed
    deployed = False
    for step in plan["steps"]:
        line = next(l for l in out.splitlines() if l.startswith(f"{step['number']}. "))
        # a step after the deploy is written by `flux continue`, under the name it gives then
        named = ["written by `flux continue`"] if deployed and step["phase"] != "code" else step["files"]
        assert step["title"] in line and all(unstamped(f) in unstamped(line) for f in named)
        deployed = deployed or step["phase"] == "code"


@pytest.mark.pg
def test_write_json_names_no_file_for_a_step_written_later(proj, capsys):
    """`plan --write --json` listed layout's name for a step after the code deploy, a stamp before the
    one its first step was written under (nestjs-boilerplate's rename_table sorted step 3 first); the
    step is named when `flux continue` writes it."""
    code, out, _ = run(capsys, ["plan", "--project", str(proj), "--op", json.dumps(RENAME), "--write", "--json"])
    assert code == 0, out
    steps = json.loads(out)["steps"]
    deploy = next(s["number"] for s in steps if s["phase"] == "code")
    assert all(s["files"] for s in steps if s["number"] < deploy and s["phase"] != "code")
    assert all(s["files"] == [] for s in steps if s["number"] > deploy)
    assert all((proj / f).is_file() for s in steps for f in s["files"])  # every file named is there
    code, out, _ = run(capsys, ["continue", "--project", str(proj), "--json"])
    assert code == 0, out


# --- verify: quiet when stderr is not a terminal -------------------------------------------------------

@pytest.mark.pg
def test_verify_in_a_pipe_prints_no_progress_and_no_third_party_warnings(proj):
    env = _env()
    env.pop("XDG_RUNTIME_DIR", None)  # platformdirs warns about it (as root) when pgserver is imported
    done = subprocess.run([sys.executable, "-m", "flux_agent", "verify", "--project", str(proj), "--rows", "20",
                           "--op", json.dumps(ADD_INDEX)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""  # no "flux verify: ..." progress, no RuntimeDirWarning, nothing
    assert "OK: every step ran forward, rolled back and ran forward again" in done.stdout
    assert done.stdout.count("forward-again") == 1  # the table once, not repeated as progress


@pytest.mark.pg
def test_verify_on_a_terminal_shows_progress(proj):
    env = _env()
    env.pop("XDG_RUNTIME_DIR", None)
    out = _run_in_pty(["verify", "--project", str(proj), "--rows", "20", "--op", json.dumps(ADD_INDEX)], proj, env)
    assert "flux verify: building the schema before the plan in the dev database" in out
    assert "Warning" not in out and "XDG_RUNTIME_DIR" not in out
