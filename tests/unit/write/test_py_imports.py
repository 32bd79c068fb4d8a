"""The imports an ORM model edit needs join the module's own `from m import` of the same module, in
isort's order where its names are in that order (full-stack-fastapi-template lints its models with
ruff's isort rule: `from sqlalchemy import BigInteger` on a line of its own after `from sqlmodel
import ...` failed it, I001); `import m` and modules not imported yet get a line after the imports."""

from __future__ import annotations

import ast

import pytest

from flux_agent.write.tools._py import ModuleNames

HEAD = "import uuid\n\nfrom sqlalchemy import DateTime\nfrom sqlmodel import Field, SQLModel\n\nx = 1\n"


def _finish(text: str, *wanted: tuple[str, str]) -> str:
    names = ModuleNames(ast.parse(text))
    for module, name in wanted:
        names.get(module, name)
    return names.finish(text)


@pytest.mark.parametrize("text, wanted, expected", [
    # joins the line, in isort's order (classes, then the rest)
    (HEAD, [("sqlalchemy", "text"), ("sqlalchemy", "BigInteger")],
     "import uuid\n\nfrom sqlalchemy import BigInteger, DateTime, text\nfrom sqlmodel import Field, SQLModel\n\nx = 1\n"),
    # names not in order stay as they are: the new one goes last
    ("from sqlalchemy import Text, Integer\n", [("sqlalchemy", "BigInteger")],
     "from sqlalchemy import Text, Integer, BigInteger\n"),
    # an alias is kept
    ("from sqlalchemy import Text as T\n", [("sqlalchemy", "BigInteger")],
     "from sqlalchemy import BigInteger, Text as T\n"),
    # laid out over lines: one name a line
    ("from sqlalchemy import (\n    DateTime,\n    Text,\n)\n", [("sqlalchemy", "BigInteger")],
     "from sqlalchemy import (\n    BigInteger,\n    DateTime,\n    Text,\n)\n"),
    # a module not imported from: a line after the imports
    (HEAD, [("typing", "Optional")],
     "import uuid\n\nfrom sqlalchemy import DateTime\nfrom sqlmodel import Field, SQLModel\nfrom typing import Optional\n"
     "\nx = 1\n"),
])
def test_a_needed_name_joins_its_modules_import(text, wanted, expected):
    assert _finish(text, *wanted) == expected


def test_a_joined_line_too_long_for_one_is_laid_out_over_lines():
    text = "from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text\n"
    done = _finish(text, ("sqlalchemy", "UniqueConstraint"))
    assert done.startswith("from sqlalchemy import (\n    BigInteger,\n") and "    UniqueConstraint,\n)\n" in done
    ast.parse(done)


def test_a_module_imported_whole_gets_a_line_of_its_own():
    names = ModuleNames(ast.parse("from datetime import datetime\n"))
    assert names.python("datetime.date") == "_datetime.date"
    assert names.finish("from datetime import datetime\n") == "from datetime import datetime\nimport datetime as _datetime\n"
