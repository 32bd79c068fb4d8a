"""What the Django reader's walk rendered for each migration (its SQL, and the schema the migrations
before it left), kept on disk by everything that run read: a folder validated again, unchanged, is
read without starting the project's Python or `migrate` (saleor's order and product apps: 320 s
cold, 245-269 s every warm run before; healthchecks' two apps 13 s each time).

The key is what the dev database's own cache keys Django's schema by (devdb/runners/django.py's
inputs: manage.py, the settings, every app's migrations, the lock files naming third-party versions;
the PostgreSQL major), and what else the walk's answer depends on: the project's Python files the
walk loaded (a custom field's SQL type is the app's code; the child says which it loaded, and those
are kept beside the answers), the names of all the project's Python files (a new module may be
loaded where none was), Flux's code that renders and reads it, the project's interpreter and the
packages installed where it looks (their versions: third-party apps bring migrations), and the
environment (a setting may read it), less what a shell changes by itself. An edit to a module the
walk does not load (a view, a test) walks nothing again (netbox: every edit re-walked, ~4 min). Only
answers of a run that went through are kept; a failure (a package missing, the settings not
loading) is read again."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import zlib
from pathlib import Path
from typing import Optional

_KEPT = 4_000  # files kept, the newest (one a migration rendered under one key)


def walk_key(project: Optional[Path], manage: Path, python: str) -> Optional[str]:
    """The key of the walk's inputs but the bytes of the project's modules it loads (answers_key and
    keep add those), or None where it cannot be worked out."""
    from ...devdb.build import _reader_version
    from ...devdb.program import _key
    from ...devdb.runners import django as runner
    from ...devdb.server import binaries_major
    from ...errors import FluxError
    from ...model.settings import Settings
    from ...project.config import load_settings
    from ..run_cache import steady_environment
    from . import _django_sql, django

    root = project or manage.parent
    try:
        settings = load_settings(root) if project is not None else Settings()
        files = sorted(set(runner.RUNNER.inputs(root, os.path.relpath(manage.parent, root))))
        inputs = _key(root, "django walk", files, binaries_major(settings), settings.dev_url)
    except (FluxError, OSError, ValueError):
        return None
    digest = hashlib.sha256(f"flux-django-walk 2\0{_reader_version()}\0{inputs}\0{python}\0{root}\0".encode())
    for code in (_django_sql.__file__, django.__file__, __file__):
        digest.update(Path(code).read_bytes())
    digest.update("\0".join(sorted(os.path.relpath(p, root) for p in _sources(root))).encode())
    digest.update(_installed(python).encode())
    digest.update(repr(steady_environment()).encode())
    return digest.hexdigest()[:32]


def answers_key(base: str) -> Optional[str]:
    """The key the answers of a walk of inputs `base` are kept under: with the bytes of the modules
    the last such walk loaded (None: no walk of these inputs was kept)."""
    try:
        loaded = json.loads(_manifest(base).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _with_loaded(base, loaded) if isinstance(loaded, list) else None


def _with_loaded(base: str, loaded: list[str]) -> str:
    digest = hashlib.sha256(f"{base}\0".encode())
    for name in loaded:
        try:
            data = Path(name).read_bytes()
        except OSError:
            data = b"\0gone"  # a module the walk loaded is gone: not the same inputs
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:32]


def loaded_sources(root: Path, loaded: list[str]) -> list[str]:
    """Of the files a walk loaded, the project's Python files (what the key reads the bytes of)."""
    mine = {os.path.realpath(p) for p in _sources(root)}
    return sorted(f for f in loaded if f in mine)


def _sources(root: Path) -> list[Path]:
    """Every Python file of the project (the folders a dev database's inputs skip, skipped)."""
    from ...devdb.runners.django import _SKIP

    out = []
    for here, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP and not d.startswith("."))
        out += [Path(here) / n for n in names if n.endswith(".py")]
    return out


def _installed(python: str) -> str:
    """What the interpreter finds installed: the packages and their versions (the .dist-info folders)
    of its virtualenv, or of its prefix's and the user's site folders, and the interpreter itself."""
    venv = Path(python).parent.parent
    places = [venv / "lib" / "python*" / "site-packages"]
    if not (venv / "pyvenv.cfg").is_file():  # pyenv's, a distribution's (dist-packages), the user's
        prefix = Path(os.path.realpath(python)).parent.parent
        places += [prefix / "lib" / "python*" / "site-packages", prefix / "lib" / "python3*" / "dist-packages",
                   prefix / "local" / "lib" / "python3*" / "dist-packages",
                   Path.home() / ".local" / "lib" / "python*" / "site-packages"]
    found = sorted(p for place in places for p in glob.glob(str(place / "*")))
    try:
        st = os.stat(python)
        me = f"{os.path.realpath(python)} {st.st_size} {st.st_mtime_ns}"
    except OSError:
        me = python
    return me + "\n" + "\n".join(found)


def _manifest(base: str) -> Path:
    """Where the project's modules the last walk of inputs `base` loaded are kept."""
    from ...devdb.server import base_dir

    return base_dir() / "django-walks" / f"{base}.loaded.json"


def _place(key: str, path: Path) -> Path:
    from ...devdb.server import base_dir

    return base_dir() / "django-walks" / (hashlib.sha256(f"{key}\0{path}".encode()).hexdigest()[:32] + ".json.z")


def kept(key: str, path: Path) -> Optional[tuple[dict, object]]:
    """(the child's rendering, the schema before) of the migration at `path` under `key`, or None."""
    from ...model.schema import Schema

    try:
        data = json.loads(zlib.decompress(_place(key, path).read_bytes()))
        return data["result"], Schema.model_validate(data["schema"])
    except (OSError, ValueError, KeyError, TypeError, zlib.error):
        return None


def keep(base: str, walked: dict, loaded: list[str]) -> None:
    """Keep a walk's answers ({path: (rendering, schema before)}), those that went through, under its
    inputs `base` and the bytes of the project's modules it `loaded` (which are kept too)."""
    from ..cache_folder import keep_newest, write_whole

    key, wrote = _with_loaded(base, loaded), None
    for path, (result, schema) in walked.items():
        if schema is not None and result.get("status") == "ok":
            place = _place(key, path)
            # compressed: the schema before each file of a big project is most of it (saleor's: ~70 KB, 8 KB so)
            data = json.dumps({"result": result, "schema": schema.model_dump(mode="json")}).encode()
            if write_whole(place, zlib.compress(data, 1)):
                wrote = place
    if wrote is not None:
        write_whole(_manifest(base), json.dumps(loaded).encode())
        keep_newest(wrote.parent, lambda name: name.endswith(".json.z"), _KEPT)
        keep_newest(wrote.parent, lambda name: name.endswith(".loaded.json"), _KEPT // 10)
