"""Code changes are unified diffs against the file as it is now: `patch -p1` applies them from
the project folder, and so does Flux's own apply (used by --write for schema files)."""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest

from flux_agent.write.code_changes import apply, change, diff, read


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


def test_a_crlf_file_gets_a_patch_in_its_own_line_endings(tmp_path):
    """babybuddy keeps its models with CRLF: the edits make "\\n" text, and the patch against the file
    as Python reads it (CRLF gone) did not apply ("different line endings")."""
    model = tmp_path / "app" / "models.py"
    model.parent.mkdir()
    model.write_bytes(b"class A:\r\n    x = 1\r\n    z = 3\r\n")
    made = change(tmp_path, "app/models.py", "class A:\n    x = 1\n    y = 2\n    z = 3\n", "add y")
    assert made.patch.count("\n") == made.patch.count("\r\n") + 3  # only the three header lines end in "\n" alone
    after = b"class A:\r\n    x = 1\r\n    y = 2\r\n    z = 3\r\n"
    assert apply(read(model), made.patch).encode() == after
    if shutil.which("patch"):
        (tmp_path / "change.patch").write_bytes(made.patch.encode())
        subprocess.run(["patch", "-p1", "-i", "change.patch"], cwd=tmp_path, check=True, capture_output=True)
        assert model.read_bytes() == after


def test_the_model_file_as_the_plan_found_it_is_read_back_from_a_crlf_file(tmp_path):
    from flux_agent.model.plan import CodeChange
    from flux_agent.write.tools._py import originals

    model = tmp_path / "models.py"
    model.write_bytes(b"a = 1\r\nb = 2\r\n")
    made = change(tmp_path, "models.py", "a = 1\nb = 3\n", "b")
    assert originals(tmp_path, [made]) == {"models.py": "a = 1\nb = 2\n"}  # not applied yet: the file now
    model.write_bytes(apply(read(model), made.patch).encode())  # applied at the deploy: taken back out
    assert originals(tmp_path, [CodeChange(path="models.py", patch=made.patch, why="b")]) == {"models.py": "a = 1\nb = 2\n"}
