"""The `flux` command runs pydantic without looking for plugins (entry/client.py): the stand-in
for pydantic's plugin finder must answer as pydantic's own does when there are none, and the
command must not load the package-metadata machinery the finder needs."""

import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pydantic

PLUGIN_DIR = Path(pydantic.__file__).parent / "plugin"


def _pydantic_module(name: str):
    """pydantic.plugin.<name> loaded from its file, whatever this process holds in sys.modules."""
    spec = importlib.util.spec_from_file_location(f"_real_pydantic_plugin_{name}", PLUGIN_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stand_in_answers_as_pydantics_finder_does():
    loader = _pydantic_module("_loader")
    assert inspect.signature(loader.get_plugins).parameters == {}, "pydantic's get_plugins takes arguments now"
    # Where pydantic asks for plugins: the stand-in must be asked the same way, from the same module.
    asking = (PLUGIN_DIR / "_schema_validator.py").read_text()
    assert "from ._loader import get_plugins" in asking and "get_plugins()" in asking
    from flux_agent.entry import client

    saved = sys.modules.pop("pydantic.plugin._loader", None)
    try:
        client._pydantic_plugins_off()
        assert list(sys.modules["pydantic.plugin._loader"].get_plugins()) == []
    finally:
        if saved is not None:
            sys.modules["pydantic.plugin._loader"] = saved


def test_a_validate_run_loads_no_package_metadata(tmp_path):
    (tmp_path / "001_add.sql").write_text("ALTER TABLE users ADD COLUMN age integer;\n")
    probe = (
        "import sys, json\n"
        "from flux_agent.entry import client\n"
        f"code = client.main(['validate', {str(tmp_path)!r}, '--json'])\n"
        "print(json.dumps({'code': code, 'metadata': 'importlib.metadata' in sys.modules}), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "FLUX_DAEMON": "off",
                               "FLUX_VALIDATE_CACHE": str(tmp_path / "cache"), "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, 1), proc.stderr
    assert json.loads(proc.stdout), "the run judged the file and printed its findings"
    assert report["metadata"] is False
