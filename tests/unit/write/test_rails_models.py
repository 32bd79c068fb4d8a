"""Rails models are told to ignore a column a plan takes away after its code deploy
(write/tools/_rails_models.py): maybe-finance's drop of families.early_access named no model
change, and servers still running would have sent INSERTs naming the dropped column (Active Record
lists every column it read at boot)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.write.code_changes import apply
from flux_agent.write.tools._rails_models import ignored_columns_changes, model_classes

from shop import SETTINGS, shop_schema

MODELS = {
    "app/models/user.rb": "class User < ApplicationRecord\n  has_many :orders\nend\n",
    "app/models/admin/product.rb": "module Admin\n  class Product < ApplicationRecord\n    self.table_name = \"products\"\n"
                                   "  end\nend\n",
    "app/models/application_record.rb": "class ApplicationRecord < ActiveRecord::Base\n  primary_abstract_class\nend\n",
    "app/models/concerns/named.rb": "module Named\n  extend ActiveSupport::Concern\nend\n",
}


def _project(tmp_path):
    for rel, text in MODELS.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def _plan(*ops):
    return build_plan(parse_operations(list(ops)), shop_schema(), SETTINGS)


def test_model_classes_know_table_name_and_the_plural(tmp_path):
    found = model_classes(_project(tmp_path))
    assert found["users"] == ("app/models/user.rb", 1)
    assert found["products"] == ("app/models/admin/product.rb", 2)  # self.table_name, in a module
    assert "admin_products" not in found and "nameds" not in found


def test_a_dropped_and_a_renamed_column_are_ignored_from_the_code_deploy(tmp_path):
    project = _project(tmp_path)
    plan = _plan({"op": "drop_column", "table": "users", "column": "name"},
                 {"op": "rename_column", "table": "products", "column": "title", "new_name": "label"})
    changes = {c.path: c for c in ignored_columns_changes(plan, project)}
    user = apply((project / "app/models/user.rb").read_text(), changes["app/models/user.rb"].patch)
    assert user == 'class User < ApplicationRecord\n  self.ignored_columns += ["name"]\n  has_many :orders\nend\n'
    product = apply((project / MODELS_PRODUCT).read_text(), changes[MODELS_PRODUCT].patch)
    assert '    self.ignored_columns += ["title"]\n' in product  # the old name: the new one is read
    if shutil.which("ruby"):
        (project / "user.rb").write_text(user)
        assert subprocess.run(["ruby", "-c", str(project / "user.rb")], capture_output=True).returncode == 0


MODELS_PRODUCT = "app/models/admin/product.rb"


def test_a_table_without_a_model_gets_a_note_and_a_plan_without_a_deploy_none(tmp_path):
    project = _project(tmp_path)
    notes = ignored_columns_changes(_plan({"op": "drop_column", "table": "orders", "column": "note"}), project)
    assert [(c.path, c.patch) for c in notes] == [("app/models/order.rb", "")]
    assert 'self.ignored_columns += ["note"]' in notes[0].why
    added = _plan({"op": "add_column", "table": "users", "column": "nick", "type": "text"})
    assert ignored_columns_changes(added, project) == []


@pytest.mark.parametrize("line", ["class User<ApplicationRecord", "class User < ApplicationRecord # the users"])
def test_spacing_and_comments_on_the_class_line(tmp_path, line):
    (tmp_path / "app/models").mkdir(parents=True)
    (tmp_path / "app/models/user.rb").write_text(f"{line}\nend\n")
    assert model_classes(tmp_path) == {"users": ("app/models/user.rb", 1)}


def test_a_renamed_tables_model_names_its_new_table(tmp_path):
    """maybe-finance's rename of chats to conversations named no model change: the code deploy would
    have kept Chat on the compatibility view, whose primary key Active Record cannot see."""
    from flux_agent.write.tools._rails_models import table_name_changes

    project = _project(tmp_path)
    changes = {c.path: c for c in table_name_changes(_plan({"op": "rename_table", "table": "users",
                                                              "new_name": "members"}), project)}
    user = apply((project / "app/models/user.rb").read_text(), changes["app/models/user.rb"].patch)
    assert user.splitlines()[1] == '  self.table_name = "members"' and "no primary key" in changes["app/models/user.rb"].why
    moved = {c.path: c for c in table_name_changes(_plan({"op": "rename_table", "table": "products",
                                                           "new_name": "goods"}), project)}
    product = apply((project / MODELS_PRODUCT).read_text(), moved[MODELS_PRODUCT].patch)
    assert '    self.table_name = "goods"\n' in product and '"products"' not in product  # its own line replaced
