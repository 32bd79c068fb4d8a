"""Code changes are unified diffs against the file as it is now: `patch -p1` applies them from
the project folder, and so does Flux's own apply (used by --write for schema files)."""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest

from flux_agent.write.code_changes import apply, change, diff


def test_diff_and_apply_round_trip_on_random_texts():
    rnd = random.Random(15)  # fixed: reproducible
    for _ in range(500):
        lines = ["a\n", "b\n", "c\n", "d", "e\n"]
        before = "".join(rnd.choice(lines) for _ in range(rnd.randint(0, 8)))
        after = "".join(rnd.choice(lines) for _ in range(rnd.randint(0, 8)))
        assert apply(before, diff("f.txt", before, after)) == after


def test_a_patch_that_does_not_fit_is_refused():
    with pytest.raises(ValueError, match="does not apply"):
        apply("x\ny\n", diff("f", "x\nz\n", "x\nw\n"))


@pytest.mark.skipif(not shutil.which("patch"), reason="no patch program")
def test_patch_p1_applies_it_from_the_project_folder(tmp_path):
    (tmp_path / "app").mkdir()
    model = tmp_path / "app" / "models.py"
    model.write_text("class A:\n    x = 1\n")
    made = change(tmp_path, "app/models.py", "class A:\n    x = 1\n    y = 2\n", "add y")
    subprocess.run(["patch", "-p1"], input=made.patch, text=True, cwd=tmp_path, check=True, capture_output=True)
    assert model.read_text() == "class A:\n    x = 1\n    y = 2\n"
