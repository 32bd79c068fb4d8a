"""An item added to or removed from a list in a Python file (a Django Meta.indexes) leaves the rest
of the list's source as it was: comments, one item per line, a trailing comma, the file's quotes.
saleor's Order.Meta.indexes lost its comments and its layout when Flux rewrote the list whole."""

from __future__ import annotations

import ast

import pytest

from flux_agent.model.operations import AddIndex, DropIndex
from flux_agent.write.tools import _django_models
from flux_agent.write.tools._py_edits import append_item, remove_item, str_source

MULTI = '''indexes = [
    GinIndex(
        name="order_search_gin",
        # `opclasses` and `fields` should be the same length
        fields=["search_document"],
    ),
    models.Index(fields=["created_at"], name="idx_order_created_at"),  # the newest first
]
'''


def _list(text: str) -> ast.List:
    return ast.parse(text).body[0].value


@pytest.mark.parametrize("text, expected", [
    ("x = [a, b]\n", "x = [a, b, NEW]\n"),
    ("x = []\n", "x = [NEW]\n"),
    ("x = (a, b)\n", "x = (a, b, NEW)\n"),
    ("x = [\n    a,\n    b,\n]\n", "x = [\n    a,\n    b,\n    NEW,\n]\n"),
    ("x = [\n    a,\n    b  # why b\n]\n", "x = [\n    a,\n    b,  # why b\n    NEW\n]\n"),
    ("x = [\n    a,\n    b]\n", "x = [\n    a,\n    b, NEW]\n"),
    (MULTI, MULTI.replace("# the newest first\n", "# the newest first\n    NEW,\n")),
])
def test_append_keeps_the_source(text, expected):
    assert append_item(text, _list(text), "NEW") == expected


@pytest.mark.parametrize("text, index, expected", [
    ("x = [a, b, c]\n", 1, "x = [a, c]\n"),
    ("x = [a, b, c]\n", 2, "x = [a, b]\n"),
    ("x = [a]\n", 0, "x = []\n"),
    ("x = [\n    a,\n    b,\n    c,\n]\n", 1, "x = [\n    a,\n    c,\n]\n"),
    ("x = [\n    a,\n    b,\n]\n", 1, "x = [\n    a,\n]\n"),
    (MULTI, 0, 'indexes = [\n    models.Index(fields=["created_at"], name="idx_order_created_at"),  # the newest first\n]\n'),
])
def test_remove_keeps_the_source(text, index, expected):
    seq = _list(text)
    out = remove_item(text, seq, seq.elts[index])
    assert out == expected
    ast.parse(out)


def test_strings_take_the_files_quotes():
    assert str_source('x = "a"\n', "idx") == '"idx"'
    assert str_source("x = 'a'\n", "idx") == "'idx'"
    assert str_source('x = "a"\n', 'say "hi"') == repr('say "hi"')


MODELS = '''from django.db import models


class Order(models.Model):
    email = models.TextField()
    created = models.DateTimeField()

    class Meta:
        indexes = [
            # the search page filters on it
            models.Index(fields=["created"], name="order_created_idx"),
        ]
'''


def test_a_django_meta_keeps_its_comments_through_add_and_drop(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "models.py").write_text(MODELS)
    ((_, added),) = _django_models.edits(tmp_path, [AddIndex(table="shop_order", columns=["email"])])
    assert added.text == MODELS.replace('name="order_created_idx"),\n', 'name="order_created_idx"),\n'
                                        '            models.Index(fields=["email"], name="shop_order_email_idx"),\n')
    ((_, dropped),) = _django_models.edits(tmp_path, [DropIndex(name="order_created_idx")],
                                           texts={"shop/models.py": added.text})
    assert "# the search page filters on it" in dropped.text and "order_created_idx" not in dropped.text
    assert 'models.Index(fields=["email"], name="shop_order_email_idx"),\n        ]' in dropped.text
