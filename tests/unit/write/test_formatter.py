"""Which formatter a project has for the files Flux writes (its config nearest the file, its binary in a
node_modules/.bin on the way), and what happens when it fails or touches the SQL. The formatters here are
small shell scripts standing in for node_modules/.bin/<name>; the real prettier, oxfmt and Biome are run
in tests/integration/write/test_formatters_js.py."""

from __future__ import annotations

import json
import stat

from flux_agent.write.base import FileJob
from flux_agent.write.formatter import find_formatter, format_jobs
from flux_agent.write.linter import find_eslint

JOB = FileJob("db/migrations/20250101000000_add_x.js",
              "exports.up = async function (knex) {\n  await knex.raw(`ALTER TABLE t ADD x int;`);\n};\n")


def _bin(folder, name, script):
    path = folder / "node_modules" / ".bin" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_found_by_its_config_or_dependency_where_its_binary_is_installed(tmp_path):
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    assert find_formatter(tmp_path, JOB.rel) is None
    (tmp_path / ".prettierrc").write_text("{}")
    assert find_formatter(tmp_path, JOB.rel) is None  # configured, not installed: nothing to run
    exe = _bin(tmp_path, "prettier", "cat")
    assert find_formatter(tmp_path, JOB.rel).name == "prettier"
    assert find_formatter(tmp_path, JOB.rel).exe == exe
    (tmp_path / ".prettierrc").unlink()
    assert find_formatter(tmp_path, JOB.rel) is None
    (tmp_path / "package.json").write_text(json.dumps({"devDependencies": {"prettier": "^3"}}))  # its defaults
    assert find_formatter(tmp_path, JOB.rel).name == "prettier"
    # The config nearest the file decides, not one further up; a binary at the root serves a folder below.
    (tmp_path / "db" / "biome.json").write_text("{}")
    assert find_formatter(tmp_path, JOB.rel) is None
    _bin(tmp_path, "biome", "cat")
    assert find_formatter(tmp_path, JOB.rel).name == "biome"


def test_the_formatter_s_output_is_what_is_written(tmp_path):
    (tmp_path / ".prettierrc").write_text("{}")
    _bin(tmp_path, "prettier", "sed 's/^exports.up/module.exports.up/'")
    jobs, used, notes = format_jobs([JOB, FileJob("db/x.sql", "SELECT 1;\n")], tmp_path)
    assert used == ["prettier"] and notes == []
    assert jobs[0].content == JOB.content.replace("exports.up", "module.exports.up", 1)
    assert jobs[1].content == "SELECT 1;\n"  # not JavaScript: not given to it


def test_a_formatter_that_changes_the_sql_is_not_trusted(tmp_path):
    (tmp_path / ".prettierrc").write_text(json.dumps({"singleQuote": True}))
    _bin(tmp_path, "prettier", "sed 's/ADD x int/ADD x bigint/'")  # a plugin formatting embedded SQL, say
    jobs, used, notes = format_jobs([JOB], tmp_path)
    assert used == [] and len(notes) == 1 and "prettier changed the SQL in the file" in notes[0]
    assert jobs[0].content == JOB.content  # restyled (nothing to change here), the SQL as planned


def test_a_failing_formatter_leaves_a_note_and_the_file_restyled(tmp_path):
    (tmp_path / ".prettierrc").write_text(json.dumps({"singleQuote": True, "tabWidth": 4}))
    _bin(tmp_path, "prettier", "echo \"[error] Cannot find package 'prettier-plugin-x'\" >&2; exit 2")
    job = FileJob("m/1_a.js", 'const a = "x";\nexports.up = async function (knex) {\n  await knex.raw(`SELECT 1`);\n};\n')
    jobs, used, notes = format_jobs([job], tmp_path)
    assert used == []
    assert notes == ["m/1_a.js: not formatted (prettier exited 2: [error] Cannot find package "
                     "'prettier-plugin-x'); restyled to the project's quotes and indentation"]
    assert jobs[0].content == "const a = 'x';\nexports.up = async function (knex) {\n    await knex.raw(`SELECT 1`);\n};\n"


def test_switched_off_it_is_never_run(tmp_path):
    (tmp_path / ".prettierrc").write_text("{}")
    _bin(tmp_path, "prettier", f"touch {tmp_path / 'ran'}; cat")
    jobs, used, notes = format_jobs([JOB], tmp_path, enabled=False)
    assert not (tmp_path / "ran").exists() and used == [] and notes == []
    format_jobs([JOB], tmp_path)
    assert (tmp_path / "ran").exists()  # the same project with it on: run


def test_model_changes_are_formatted_only_where_the_file_was_in_the_formatter_s_layout(tmp_path):
    from flux_agent.model.plan import CodeChange
    from flux_agent.write.code_changes import apply, created, patch_for
    from flux_agent.write.formatter import format_code_changes

    (tmp_path / ".prettierrc").write_text(json.dumps({"semi": False}))
    _bin(tmp_path, "prettier", "sed 's/;$//'")  # a formatter whose layout has no semicolons
    (tmp_path / "clean.ts").write_text("const a = 1\n")
    (tmp_path / "mixed.ts").write_text("const a = 1;\n")
    changes = [CodeChange(path=p, patch=patch_for(tmp_path, p, (tmp_path / p).read_text() + "const b = 2;\n"), why="w")
               for p in ("clean.ts", "mixed.ts")]
    changes.append(CodeChange(path="New.ts", patch=created("New.ts", "export const c = 3;\n"), why="w"))
    clean, mixed, new = format_code_changes(changes, tmp_path)
    assert apply("const a = 1\n", clean.patch) == "const a = 1\nconst b = 2\n"
    assert mixed == changes[1]  # formatting it would rewrite line 1, which the plan does not touch
    assert apply("", new.patch) == "export const c = 3\n" and new.patch.startswith("--- /dev/null")
    assert format_code_changes(changes, tmp_path, enabled=False) == changes


def test_a_python_model_s_formatter_is_the_one_its_project_configures(tmp_path, monkeypatch):
    """black by [tool.black], ruff by its [format] section or a pre-commit hook; [tool.ruff] alone only
    lints. Looked for beside the project's interpreter (its .venv here), then on the path."""
    from flux_agent.write._formatter_python import python_formatter

    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text("")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    rel = "shop/models.py"
    (tmp_path / "shop").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert python_formatter(tmp_path, rel) is None
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    assert python_formatter(tmp_path, rel) is None  # configured, not installed
    _bin(tmp_path, "black", "cat")
    black = tmp_path / "node_modules" / ".bin" / "black"
    black.rename(venv_bin / "black")
    assert python_formatter(tmp_path, rel) == ("black", str(venv_bin / "black"))
    (tmp_path / "pyproject.toml").write_text("[tool.ruff.format]\nquote-style = 'single'\n")
    assert python_formatter(tmp_path, rel) is None  # ruff's formatter configured: black is not the one
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: https://github.com/psf/black\n  rev: 24.1.0\n  hooks:\n  - id: black\n")
    assert python_formatter(tmp_path, rel)[0] == "black"
    (tmp_path / "shop" / "ruff.toml").write_text("[format]\nquote-style = 'double'\n")  # nearer the file
    assert python_formatter(tmp_path, rel) is None


def test_black_as_a_dependency_is_black_with_its_defaults(tmp_path, monkeypatch):
    """babybuddy: no [tool.black], black in its Pipfile, `black . --check` in its lint."""
    from flux_agent.write._formatter_python import python_formatter

    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").write_text("")
    _bin(tmp_path, "black", "cat").rename(tmp_path / ".venv" / "bin" / "black")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert python_formatter(tmp_path, "core/models.py") is None
    for name, text in (("Pipfile", '[dev-packages]\nblack = "~=26.0"\n'),
                       ("pyproject.toml", '[project]\nname = "x"\n[dependency-groups]\ndev = ["black>=24"]\n'),
                       ("requirements-dev.txt", "# tools\n-r requirements.txt\nblack==24.1.0\n")):
        (tmp_path / name).write_text(text)
        assert python_formatter(tmp_path, "core/models.py")[0] == "black", name
        (tmp_path / name).unlink()
    (tmp_path / "requirements.txt").write_text("ruff>=0.5\nblackfire\n")  # ruff may lint only; not black
    assert python_formatter(tmp_path, "core/models.py") is None


def test_a_crlf_file_keeps_its_line_endings_through_the_formatter(tmp_path):
    """babybuddy keeps models.py with CRLF: read back as text, the formatter's output lost its CRs, the
    file looked unformatted before the edit, and the edit was never formatted."""
    from flux_agent.model.plan import CodeChange
    from flux_agent.write.code_changes import apply, patch_for
    from flux_agent.write.formatter import format_code_changes

    (tmp_path / ".prettierrc").write_text("{}")
    _bin(tmp_path, "prettier", "sed 's/;\\r$/\\r/'")  # no semicolons, CRLF kept
    (tmp_path / "m.ts").write_bytes(b"const a = 1\r\n")
    change = CodeChange(path="m.ts", patch=patch_for(tmp_path, "m.ts", "const a = 1\nconst b = 2;\n"), why="w")
    (formatted,) = format_code_changes([change], tmp_path)
    assert apply("const a = 1\r\n", formatted.patch) == "const a = 1\r\nconst b = 2\r\n"


def test_a_formatter_may_requote_the_sql_but_not_change_its_value(tmp_path):
    """The strings' values are what must stay (ESLint's quotes rule turns a template into a quoted
    string); a changed value is still refused."""
    (tmp_path / ".prettierrc").write_text("{}")
    _bin(tmp_path, "prettier", "sed \"s/\\`ALTER TABLE t ADD x int;\\`/'ALTER TABLE t ADD x int;'/\"")
    jobs, used, notes = format_jobs([JOB], tmp_path)
    assert used == ["prettier"] and notes == [] and "'ALTER TABLE t ADD x int;'" in jobs[0].content
    _bin(tmp_path, "prettier", "sed \"s/\\`ALTER TABLE t ADD x int;\\`/'ALTER TABLE t ADD x int'/\"")
    jobs, used, notes = format_jobs([JOB], tmp_path)
    assert used == [] and "prettier changed the SQL in the file" in notes[0] and jobs[0].content == JOB.content


def _eslint(folder, output: str, code: int = 1, messages: str = "[]"):
    """node_modules/.bin/eslint answering --format json with `output` as its fixed text."""
    result = json.dumps([{"filePath": "x", "messages": json.loads(messages), "output": output}])
    return _bin(folder, "eslint", f"cat > /dev/null; printf '%s' '{result}'; exit {code}")


def test_eslint_is_found_by_its_config_nearest_the_file(tmp_path):
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    _eslint(tmp_path, "x")
    assert find_eslint(tmp_path, JOB.rel) is None  # installed, not configured
    (tmp_path / "package.json").write_text(json.dumps({"eslintConfig": {}}))  # a legacy config in package.json
    assert find_eslint(tmp_path, JOB.rel).cwd == tmp_path.resolve()
    (tmp_path / "db" / "eslint.config.mjs").write_text("export default [];")
    assert find_eslint(tmp_path, JOB.rel).cwd == (tmp_path / "db").resolve()  # where ESLint 9 must start
    (tmp_path / "node_modules" / ".bin" / "eslint").unlink()
    assert find_eslint(tmp_path, JOB.rel) is None


def test_eslint_s_fix_is_kept_unless_it_changes_the_sql(tmp_path):
    (tmp_path / "eslint.config.mjs").write_text("export default [];")
    fixed = JOB.content.replace("async function", "async function up")
    _eslint(tmp_path, fixed, 0)
    jobs, used, notes = format_jobs([JOB], tmp_path)
    assert used == ["eslint --fix"] and notes == [] and jobs[0].content == fixed
    _eslint(tmp_path, JOB.content.replace("int;", "bigint;"), 0)
    jobs, used, notes = format_jobs([JOB], tmp_path)
    assert used == [] and jobs[0].content == JOB.content
    assert notes == [f"{JOB.rel}: not linted (ESLint's fixes changed the SQL in the file)"]
