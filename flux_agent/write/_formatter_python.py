"""Python formatting as the project does it. For the migrations Flux writes, what the migration tool does
to its own: Alembic's post_write_hooks (ruff or black, as alembic.ini or [tool.alembic] configures them)
and Django's makemigrations formatting (black, where it is on the path), each by the tool's own code in
the project's interpreter (_format_child.py), on a copy of the file under its own name beside where it
goes, so the formatter finds the project's config as it would for the file itself. For the model files
Flux edits: the formatter the project configures (black, or ruff's formatter), found by python_formatter."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from ..project.places import folders_up, project_python
from ..errors import FluxInputError

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

_TIMEOUT_S = 120


def _alembic_config(project: Path, folder: str) -> Optional[dict]:
    """The child's config for the Alembic configuration of `folder`, if it sets post_write_hooks."""
    from ..devdb.runners.alembic import config_of  # the dev database's reading of alembic.ini

    try:
        where = config_of(project, folder)
    except FluxInputError:
        return None
    if where.toml:
        text = where.file.read_text(encoding="utf-8", errors="replace")
        hooked = "post_write_hooks" in text  # [[tool.alembic.post_write_hooks]]: alembic reads the rest
    else:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(where.file, encoding="utf-8")
        except configparser.Error:
            return None
        hooked = bool(parser.get("post_write_hooks", "hooks", fallback="").strip())
    if not hooked:
        return None
    return {"tool": "alembic", "ini": "" if where.toml else str(where.file), "section": where.section,
            "toml": str(where.file) if where.toml else "", "cwd": str(where.file.parent)}


def _search_path(python: str) -> str:
    """The path a tool run for the project searches: the project's interpreter's folder (its
    virtualenv's scripts), then the path Flux runs with."""
    return os.pathsep.join([os.path.dirname(python), os.environ.get("PATH", "")])


def format_python(contents: dict[str, str], project: Path, tool: str) -> tuple[dict[str, str], list[str], list[str]]:
    """{rel: text} of Python files as the tool would leave them; the formatters that ran; notes on
    failures (the file then stays as Flux wrote it)."""
    if tool not in ("alembic", "django") or not contents:
        return contents, [], []
    folder = Path(next(iter(contents))).parent.as_posix()
    python = project_python(project / folder, project)
    if tool == "alembic":
        config = _alembic_config(project, folder)
    else:
        # the black Django's run_formatters would find: on the path the child gets
        config = {"tool": "django", "cwd": str(project)} if shutil.which("black", path=_search_path(python)) else None
    if config is None:
        return contents, [], []
    here = project / folder
    while not here.is_dir() and project in here.parents:
        here = here.parent
    tmp = Path(tempfile.mkdtemp(prefix=".flux-format-", dir=here))
    try:
        copies = {}
        for rel, text in contents.items():
            copies[rel] = tmp / Path(rel).name
            copies[rel].write_text(text, encoding="utf-8", newline="\n")
        env = dict(os.environ, PATH=_search_path(python))
        child = {**config, "paths": [str(p) for p in copies.values()]}
        try:
            done = subprocess.run([python, str(Path(__file__).with_name("_format_child.py")), json.dumps(child)],
                                  cwd=config["cwd"], env=env, capture_output=True, text=True, timeout=_TIMEOUT_S)
            result = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
        except subprocess.TimeoutExpired:
            result = {"error": f"took more than {_TIMEOUT_S} s"}
        except (OSError, ValueError) as exc:
            result = {"error": str(exc)}
        what = "alembic's post_write_hooks" if tool == "alembic" else "Django's run_formatters"
        if "ran" not in result:
            why = result.get("error") or (done.stderr.strip().splitlines() or ["no answer"])[-1]
            return contents, [], [f"{rel}: {what} did not run ({why}); written as Flux made it" for rel in contents]
        if not result["ran"]:
            return contents, [], []
        out = {rel: copies[rel].read_text(encoding="utf-8") for rel in contents}
        return out, [f"{what}: {', '.join(result['ran'])}"], []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _toml(path: Path) -> Optional[dict]:
    """The TOML document at `path`; None where there is none or it does not read."""
    if not path.is_file():
        return None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _py_formatters_in(folder: Path) -> list[str]:
    """The Python formatters `folder` configures: [tool.black], ruff's [format] section (pyproject's
    [tool.ruff.format], ruff.toml), a pre-commit hook of either. A [tool.ruff] alone says only that
    ruff lints."""
    names = []
    pyproject = (_toml(folder / "pyproject.toml") or {}).get("tool") or {}
    tables = [pyproject] + [{"ruff": doc} for doc in map(_toml, (folder / "ruff.toml", folder / ".ruff.toml")) if doc]
    for table in tables:
        if isinstance(table.get("black"), dict):
            names.append("black")
        if isinstance(table.get("ruff"), dict) and isinstance(table["ruff"].get("format"), dict):
            names.append("ruff")
    if _depends_on_black(folder):  # black with its defaults (babybuddy: Pipfile's black, `black . --check`)
        names.append("black")
    hooks = folder / ".pre-commit-config.yaml"
    if hooks.is_file():
        import yaml

        try:
            doc = yaml.safe_load(hooks.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            doc = {}
        ids = {h.get("id") for r in doc.get("repos", []) if isinstance(r, dict)
               for h in r.get("hooks", []) if isinstance(h, dict)} if isinstance(doc, dict) else set()
        names += [n for n, hook in (("black", "black"), ("ruff", "ruff-format")) if hook in ids]
    return list(dict.fromkeys(names))


def _requirement_name(spec: str) -> str:
    """The distribution a requirement names (`black~=26.0` -> black)."""
    name = spec.strip()
    for stop in "<>=!~;[ @":
        name = name.split(stop, 1)[0]
    return name.strip().lower()


def _depends_on_black(folder: Path) -> bool:
    """Does the project in `folder` declare black as a dependency (Pipfile, pyproject's dependency
    lists, requirements*.txt)? ruff's is not read so: a project may depend on ruff to lint only."""
    specs: list[str] = []
    pipfile = _toml(folder / "Pipfile") or {}
    specs += [k for section in ("packages", "dev-packages") for k in (pipfile.get(section) or {})]
    doc = _toml(folder / "pyproject.toml") or {}
    project = doc.get("project") or {}
    specs += list(project.get("dependencies") or [])
    specs += [s for group in (project.get("optional-dependencies") or {}).values() for s in group]
    specs += [s for group in (doc.get("dependency-groups") or {}).values() for s in group if isinstance(s, str)]
    poetry = (doc.get("tool") or {}).get("poetry") or {}
    specs += list(poetry.get("dependencies") or {}) + list(poetry.get("dev-dependencies") or {})
    specs += [k for group in (poetry.get("group") or {}).values() for k in (group.get("dependencies") or {})]
    for path in sorted(folder.glob("requirements*.txt")):
        try:
            specs += [line for line in path.read_text(encoding="utf-8").splitlines()
                      if line.strip() and not line.lstrip().startswith(("#", "-"))]
        except OSError:
            continue
    return any(isinstance(s, str) and _requirement_name(s) == "black" for s in specs)


def python_formatter(project: Path, rel: str) -> Optional[tuple[str, str]]:
    """(name, executable) of the formatter configured nearest `rel` (from its folder up to the project),
    where it is installed: in the project's interpreter's folder, else on the path; None otherwise."""
    root = Path(project).resolve()
    folders = folders_up(root, Path(rel).parent)
    for d in folders:
        names = _py_formatters_in(d)
        for name in names:
            exe = shutil.which(name, path=_search_path(project_python(folders[0], root)))
            if exe:
                return name, exe
        if names:
            return None
    return None
