"""Run by path with the project's interpreter (which may not have Flux installed: standard library
only): formats the files named in its JSON argument as the project's migration tool formats the
files it writes, with that tool's own code, and prints what ran as JSON.
- alembic: the post_write_hooks of its config (alembic.ini's section, or [tool.alembic]), by
  alembic.script.write_hooks, as `alembic revision` runs them on a new revision;
- django: django.core.management.utils.run_formatters, as makemigrations runs it (black, if on the path).
"""

import json
import shutil
import sys


def _alembic(config: dict) -> dict:
    from alembic.config import Config
    from alembic.script import ScriptDirectory, write_hooks

    cfg = Config(toml_file=config["toml"]) if config["toml"] else Config(config["ini"], ini_section=config["section"])
    script = ScriptDirectory.from_config(cfg)
    hooks = getattr(script, "hooks", None) or getattr(script, "hook_config", None)  # alembic >= 1.16, before
    if not hooks:
        return {"ran": []}
    for path in config["paths"]:
        write_hooks._run_hooks(path, hooks)  # what ScriptDirectory.generate_revision calls
    names = [h.get("_hook_name") for h in hooks] if isinstance(hooks, list) else \
        [n for n in str(hooks.get("hooks", "")).replace(",", " ").split() if n]
    return {"ran": names}


def _django(config: dict) -> dict:
    from django.core.management.utils import run_formatters  # Django 4.1+

    black = shutil.which("black")
    if black is None:
        return {"ran": []}
    run_formatters(config["paths"], black_path=black)
    return {"ran": ["black"]}


def main() -> None:
    config = json.loads(sys.argv[1])
    try:
        result = (_alembic if config["tool"] == "alembic" else _django)(config)
    except BaseException as exc:  # noqa: BLE001 - the project's hooks may raise anything, SystemExit too
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        result = {"error": f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
