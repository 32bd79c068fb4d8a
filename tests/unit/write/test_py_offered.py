"""An ORM model edit is offered only where the edited file parses; an edit that fails is said to be
the user's, naming the file and the operation (the Django, SQLAlchemy and SQLModel edits share it)."""

from dataclasses import dataclass

import pytest

from flux_agent.write.tools._py import offered


@dataclass
class Edit:
    text: str | None = None
    cannot: str = ""


def _failed(why: str) -> Edit:
    return Edit(cannot=why)


def test_an_edit_that_parses_is_offered():
    assert offered(lambda: Edit("x = 1\n"), _failed, "app/models.py", "add_column") == Edit("x = 1\n")
    assert offered(lambda: Edit(None, cannot="by hand"), _failed, "app/models.py", "add_column").cannot == "by hand"


@pytest.mark.parametrize("make, why", [
    (lambda: Edit("class Item(:\n"), "SyntaxError"),
    (lambda: next(iter([])), "StopIteration"),
    (lambda: {}["missing"], "KeyError"),
])
def test_an_edit_that_fails_is_the_users(make, why):
    done = offered(make, _failed, "app/models.py", "rename_column")
    assert done.text is None
    assert done.cannot.startswith(f"Flux could not edit app/models.py for rename_column ({why}")
    assert done.cannot.endswith("change it by hand")
