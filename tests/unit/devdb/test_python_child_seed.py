"""The project's Python runs with one hash seed: Django re-creates the foreign keys to a renamed model
in a set's order, and saleor's findings swapped places between two runs of the same files."""

import sys

from flux_agent.devdb import program
from flux_agent.devdb.runners import _python


def test_the_child_hashes_strings_the_same_every_run(tmp_path, monkeypatch):
    tool = tmp_path / "tool.py"
    tool.write_text("def child(config, check, tolerated):\n"
                    "    return {'status': 'ok', 'order': list({'orders_fk', 'lines_fk', 'items_fk', 'carts_fk'})}\n")
    job = program.tool_run(tmp_path, "", "postgresql://flux@/none?host=/nonexistent", "m" * 32)
    orders = []
    for seed in ("1", "2", "3", "random"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)  # whatever the caller's, as the scrubbed environment may pass
        job.env["PYTHONHASHSEED"] = seed
        done = _python.run_child(job, "probe", sys.executable, tmp_path, {"module": str(tool)})
        assert done["status"] == "ok", done
        orders.append(done["order"])
    assert all(o == orders[0] for o in orders), orders
