"""A new import goes where isort (ruff's I001) wants it: mealie's `import decimal`, added for a
numeric column, went after the module's relative imports and its lint failed."""

from __future__ import annotations

import pytest

from flux_agent.write.tools._py import _placed_import

MEALIE = '''from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING

import sqlalchemy as sa

from .._model_base import BaseMixins
'''


@pytest.mark.parametrize("line, after, before", [
    ("import decimal", "import datetime\n", "import uuid\n"),
    ("import zoneinfo", "import uuid\n", "from typing import TYPE_CHECKING\n"),
    ("import enum", "import datetime\n", "import uuid\n"),
    ("import pydantic", "from .._model_base import BaseMixins\n", None),  # not the standard library's: last
])
def test_an_import_goes_in_its_section_in_order(line, after, before):
    got = _placed_import(MEALIE, line)
    assert got.count(line + "\n") == 1
    assert got.index(after) < got.index(line + "\n")
    if before:
        assert got.index(line + "\n") < got.index(before)


def test_the_first_standard_library_import_opens_the_first_section():
    text = "from __future__ import annotations\n\nimport sqlalchemy as sa\n\nfrom .base import Base\n"
    assert _placed_import(text, "import decimal") == (
        "from __future__ import annotations\n\nimport decimal\n\nimport sqlalchemy as sa\n\nfrom .base import Base\n")
