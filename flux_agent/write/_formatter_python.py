"""What a Python migration tool does to the files it writes, done to Flux's before they are written:
Alembic's post_write_hooks (ruff or black, as alembic.ini or [tool.alembic] configures them) and
Django's makemigrations formatting (black, where it is on the path), each by the tool's own code in
the project's interpreter (_format_child.py), on a copy of the file under its own name beside
where it goes, so the formatter finds the project's config as it would for the file itself."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from ..devdb.runners._python import project_python
from ..errors import FluxInputError

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


def _black(python: str) -> Optional[str]:
    """The black Django's run_formatters would find: on the path the child gets (the project's
    interpreter's folder first)."""
    return shutil.which("black", path=os.pathsep.join([os.path.dirname(python), os.environ.get("PATH", "")]))


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
        config = {"tool": "django", "cwd": str(project)} if _black(python) else None
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
        env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(python), os.environ.get("PATH", "")]))
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
