"""Issue 18 for Django: after Flux writes a plan (`plan --write`, then `continue` past the code
deploy) and its models.py edit is applied with `patch -p1`, `manage.py makemigrations --check
--dry-run` finds no changes. A small project of two apps made by the real Django; the plan's
table belongs to the second app, so its migrations must go there."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from flux_agent.entry.cli import main

pytest.importorskip("django")

MODELS = {
    "accounts/models.py": """from django.db import models


class Profile(models.Model):
    bio = models.TextField(blank=True)
""",
    "shop/models.py": """from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
    email = models.TextField()
    created = models.DateTimeField(auto_now_add=True)
    note = models.TextField(null=True)

    class Meta:
        db_table = "customers"


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    total = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["total"], name="shop_order_total_idx")]
        constraints = [models.UniqueConstraint(fields=["customer", "total"], name="%(app_label)s_%(class)s_unique_total")]
""",
}

OPS = {
    "add-column": {"op": "add_column", "table": "customers", "column": "nickname", "type": "text"},
    "add-index": {"op": "add_index", "table": "customers", "columns": ["name"]},
    "rename-column": {"op": "rename_column", "table": "customers", "column": "name", "new_name": "full_name"},
    "change-type": {"op": "change_column_type", "table": "customers", "column": "name", "type": "varchar(200)"},
    "add-column-default-table": {"op": "add_column", "table": "shop_order", "column": "weight", "type": "bigint",
                                 "nullable": False, "default": "0"},
    "change-type-int": {"op": "change_column_type", "table": "shop_order", "column": "total", "type": "bigint"},
    # beyond the four: edits Flux also makes
    "add-column-backfilled": {"op": "add_column", "table": "customers", "column": "score", "type": "integer",
                              "nullable": False, "backfill": "0"},
    "drop-column": {"op": "drop_column", "table": "customers", "column": "email"},
    "set-not-null": {"op": "set_not_null", "table": "customers", "column": "note"},
    "drop-not-null": {"op": "drop_not_null", "table": "customers", "column": "email"},
    "drop-index": {"op": "drop_index", "name": "shop_order_total_idx"},
    # several operations: each state operation once, whichever group of the plan writes it
    "index-and-drop": [{"op": "add_index", "table": "customers", "columns": ["name"]},
                       {"op": "drop_column", "table": "customers", "column": "email"}],
    "add-and-rename": [{"op": "add_column", "table": "customers", "column": "nickname", "type": "text"},
                       {"op": "rename_column", "table": "customers", "column": "name", "new_name": "full_name"}],
    # a field its Meta names (an index on it): it keeps its name and names the new column (db_column);
    # the index, named as PostgreSQL names one on the column, is renamed in the database and in Meta
    # alike; the constraint named by a template of the project's own keeps its name in both (netbox's)
    "rename-indexed": {"op": "rename_column", "table": "shop_order", "column": "total", "new_name": "amount"},
}
STATE_OPERATIONS = {"rename-indexed": 2}  # AlterField, RenameIndex; one per operation elsewhere


def manage(root: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=root, capture_output=True, text=True,
                          timeout=300, check=False)
    if ok:
        assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def project(root: Path, url: str, auto_field: str = "django.db.models.BigAutoField", models: dict = MODELS,
            apps: tuple = ("accounts", "shop"), sqlite_unless_postgres: bool = False) -> Path:
    """A Django project of `apps` on the database of `url`; `sqlite_unless_postgres`: on SQLite unless
    DB=postgres is set, as healthchecks is."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    db = {"ENGINE": "django.db.backends.postgresql", "NAME": info["dbname"], "USER": info.get("user", ""),
          "PASSWORD": info.get("password", ""), "HOST": info.get("host", ""), "PORT": info.get("port", "")}
    files = {
        "manage.py": "import os, sys\n\nif __name__ == '__main__':\n"
                     "    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n"
                     "    from django.core.management import execute_from_command_line\n"
                     "    execute_from_command_line(sys.argv)\n",
        "proj/__init__.py": "",
        "proj/settings.py": f"SECRET_KEY = 'flux-test'\nINSTALLED_APPS = {list(apps)!r}\nUSE_TZ = True\n"
                            f"DEFAULT_AUTO_FIELD = {auto_field!r}\n"
                            + (f"import os\nPG = {db!r}\nDATABASES = {{'default': PG if os.environ.get('DB') == "
                               "'postgres' else {'ENGINE': 'django.db.backends.sqlite3', 'NAME': "
                               "os.path.join(os.path.dirname(__file__), 'db.sqlite3')}}\n" if sqlite_unless_postgres
                               else f"DATABASES = {{'default': {db!r}}}\n"),
        **{f"{app}/__init__.py": "" for app in apps},
        **models,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    manage(root, "makemigrations", *apps)
    return root


def flux(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def write_all(root: Path, op: dict, capsys, patch_at_deploy: bool = False) -> dict:
    """plan --write, then continue until every step is written; the plan as --json printed it.
    `patch_at_deploy`: the models.py edit is applied before `continue`, as at the code deploy."""
    code, out = flux(capsys, "plan", "--project", str(root), "--op", json.dumps(op), "--write", "--json")
    assert code == 0, out
    plan = json.loads(out)
    if patch_at_deploy:
        apply_patches(root, plan)
    for _ in plan["steps"]:
        code, out = flux(capsys, "continue", "--project", str(root))
        if code != 0:
            break
    return plan


def apply_patches(root: Path, plan: dict) -> list[str]:
    applied = []
    for i, c in enumerate(plan["code_changes"]):
        if c["applied_on_write"]:  # --write made it already (alembic's env.py)
            continue
        assert c["patch"], c["why"]
        patch_file = root.parent / f"change{i}.patch"
        patch_file.write_text(c["patch"])
        done = subprocess.run(["patch", "-p1", "-i", str(patch_file)], cwd=root, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        applied.append(c["path"])
    return applied


@pytest.mark.slow
@pytest.mark.parametrize("case", list(OPS))
def test_models_and_migrations_agree_after_the_plan(pg_url, tmp_path, capsys, case):
    root = project(tmp_path / "site", pg_url)
    before = {p.name for p in (root / "accounts" / "migrations").iterdir()}
    plan = write_all(root, OPS[case], capsys)
    assert {p.name for p in (root / "accounts" / "migrations").iterdir()} == before  # not the first app's folder
    written = sorted((root / "shop" / "migrations").glob("000[2-9]_*.py"))
    deploy_first = plan["steps"][0]["phase"] == "code"  # its deploy gets a migration of state operations
    assert len(written) == sum(s["phase"] != "code" for s in plan["steps"]) + deploy_first
    assert sum("state_operations=[" in p.read_text() for p in written) == 1
    states = [line.strip() for p in written for line in p.read_text().splitlines() if "migrations." in line
              and "RunSQL" not in line and "Migration" not in line and "import" not in line]
    assert len(states) == STATE_OPERATIONS.get(case, len(OPS[case]) if isinstance(OPS[case], list) else 1), states
    manage(root, "migrate")  # the real migrations run on PostgreSQL, then the models are checked against them
    before = manage(root, "makemigrations", "--check", "--dry-run", ok=False)  # the state moved, models.py not yet
    assert before.returncode != 0, before.stdout
    assert apply_patches(root, plan) == ["shop/models.py"]
    done = manage(root, "makemigrations", "--check", "--dry-run", ok=False)
    assert done.returncode == 0 and "No changes detected" in done.stdout, done.stdout + done.stderr
    if case == "rename-column":
        assert "full_name = models.CharField(max_length=100)" in (root / "shop" / "models.py").read_text()
    if case == "rename-indexed":
        models_py = (root / "shop" / "models.py").read_text()
        assert 'total = models.IntegerField(default=0, db_column="amount")' in models_py
        assert 'indexes = [models.Index(fields=["total"], name="shop_order_amount_idx")]' in models_py
        assert 'name="%(app_label)s_%(class)s_unique_total")]' in models_py
        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'shop_order_amount_idx'"
                                ).fetchone()[0].endswith("(amount)")
            assert conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'shop_order_unique_total'"
                                ).fetchone()[0].endswith("(customer_id, amount)")
    with psycopg.connect(pg_url) as conn:  # the ORM reads and writes the changed table
        assert conn.execute("SELECT count(*) FROM django_migrations WHERE app = 'shop'").fetchone()[0] == \
            1 + len(written)
    fields = {"name": "a", "email": "e", "note": "n"}
    if case in ("rename-column", "add-and-rename"):
        fields["full_name"] = fields.pop("name")
    if case in ("drop-column", "index-and-drop"):
        del fields["email"]
    if case == "add-column-backfilled":
        fields["score"] = 1
    manage(root, "shell", "-c", f"from shop.models import Customer, Order; c = Customer.objects.create(**{fields!r}); "
           "Order.objects.create(customer=c); print(Customer.objects.count())")


@pytest.mark.slow
@pytest.mark.parametrize("case", ["rename-column", "drop-column", "change-type-int"])
def test_models_edited_at_the_deploy_before_continue(pg_url, tmp_path, capsys, case):
    """The usual order: the models.py edit ships with the code deploy, then `flux continue` writes the
    contract step, which finds the state operations carried already (made from models.py as the plan
    found it)."""
    root = project(tmp_path / "site", pg_url)
    plan = write_all(root, OPS[case], capsys, patch_at_deploy=True)
    written = sorted((root / "shop" / "migrations").glob("000[2-9]_*.py"))
    assert len(written) == sum(s["phase"] != "code" for s in plan["steps"])
    # the last migration `plan --write` wrote carries them (the steps written after the deploy find
    # them done)
    assert [("state_operations=[" in w.read_text()) for w in written].count(True) == 1
    manage(root, "migrate")
    done = manage(root, "makemigrations", "--check", "--dry-run", ok=False)
    assert done.returncode == 0 and "No changes detected" in done.stdout, done.stdout + done.stderr


def test_other_operations_get_a_note_not_an_edit(tmp_path):
    from flux_agent.model.operations import AddCheck, SetNotNull
    from flux_agent.write.tools import _django_models

    root = tmp_path / "site"
    for rel, text in MODELS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    results = _django_models.edits(root, [AddCheck(table="customers", expression="length(email) > 3"),
                                          SetNotNull(table="nowhere", column="x")])
    assert [r.text for _, r in results] == [None, None]
    assert "add_check" in results[0][1].cannot and "shop/models.py" in results[0][1].cannot
    assert "no Django model has the table nowhere" in results[1][1].cannot


def test_a_plan_over_two_apps_edits_only_the_app_it_writes_to(tmp_path):
    from flux_agent.model.operations import AddColumn
    from flux_agent.model.plan import Plan
    from flux_agent.write.code_changes import apply
    from flux_agent.write.tools.django import WRITER, owning_folder

    root = tmp_path / "site"
    for rel, text in MODELS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text.replace("class Profile(models.Model)", "class Profile(Base)")
                                .replace("from django.db import models\n", "from django.db import models\n"
                                         "from common import Base\n"))
    plan = Plan(description="two apps", type="safe", tool="django", steps=[], operations=[
        AddColumn(table="customers", column="nickname", type="text"),
        AddColumn(table="accounts_profile", column="age", type="integer")])
    assert str(owning_folder(plan, root)) == "shop/migrations"
    shop, accounts = sorted(WRITER.code_changes(plan, root), key=lambda c: c.path, reverse=True)
    assert shop.path == "shop/models.py" and "nickname = models.TextField(null=True)" in \
        apply((root / shop.path).read_text(), shop.patch)
    # Profile's base is not called *Model, but its fields make it a model; its app is not where the files go.
    assert accounts.path == "accounts/models.py" and accounts.patch == ""
    assert "belongs to app accounts" in accounts.why and "shop/migrations" in accounts.why


def test_models_package_is_read(tmp_path):
    from flux_agent.model.operations import AddColumn
    from flux_agent.write.tools import _django_models

    (tmp_path / "shop" / "models").mkdir(parents=True)
    (tmp_path / "shop" / "models" / "__init__.py").write_text("from .customer import Customer\n")
    (tmp_path / "shop" / "models" / "customer.py").write_text(MODELS["shop/models.py"])
    ((_, result),) = _django_models.edits(tmp_path, [AddColumn(table="shop_order", column="w", type="bigint")])
    assert (result.model.rel, result.model.app_dir, result.model.label) == ("shop/models/customer.py", "shop", "shop")
    assert "    w = models.BigIntegerField(null=True)\n" in result.text
    assert result.state == ["migrations.AddField('order', 'w', models.BigIntegerField(null=True))"]


def test_a_model_file_changed_under_the_plan_gets_a_note(tmp_path):
    from flux_agent.model.operations import AddColumn
    from flux_agent.write.tools import _django_models

    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "models.py").write_text(MODELS["shop/models.py"])
    ((_, result),) = _django_models.edits(tmp_path, [AddColumn(table="customers", column="x", type="text")],
                                          texts={"shop/models.py": "from django.db import models\n"})
    assert result.text is None and result.cannot == "shop/models.py has no class Customer any more: change it by hand"


def test_a_field_from_an_abstract_model_is_named_where_it_is_defined(tmp_path):
    """saleor's seo_title is defined once, in the abstract SeoModel of another app, for many models:
    the note says where, not that the model has no such field."""
    from flux_agent.model.operations import DropNotNull, RenameColumn
    from flux_agent.write.tools import _django_models

    (tmp_path / "seo").mkdir()
    (tmp_path / "seo" / "models.py").write_text(
        "from django.db import models\n\n\nclass SeoModel(models.Model):\n"
        "    seo_title = models.CharField(max_length=70, null=True)\n\n    class Meta:\n        abstract = True\n")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "models.py").write_text(
        "from django.db import models\n\nfrom seo.models import SeoModel\n\n\nclass Product(SeoModel):\n"
        "    name = models.CharField(max_length=100)\n")
    results = _django_models.edits(tmp_path, [RenameColumn(table="shop_product", column="seo_title", new_name="t"),
                                              DropNotNull(table="shop_product", column="name"),
                                              RenameColumn(table="shop_product", column="nowhere", new_name="x")])
    (_, renamed), (_, nullable), (_, unknown) = results
    assert renamed.text is None and "abstract model SeoModel (seo/models.py)" in renamed.cannot
    assert nullable.text is not None and "null=True" in nullable.text  # its own field: edited as before
    assert "no field of shop/models.py (Product) has the column nowhere" in unknown.cannot


def test_an_index_on_a_field_of_an_abstract_model_goes_in_the_model_s_own_meta(tmp_path):
    """netbox's Interface takes mtu from its abstract BaseInterface: an index on it was left to the user,
    with no state operation, so the Meta entry they added made makemigrations write a second CREATE INDEX.
    The index goes in the concrete model's Meta.indexes, its state beside the SQL, as for its own fields."""
    from flux_agent.model.operations import AddIndex
    from flux_agent.write.tools import _django_models

    (tmp_path / "dcim").mkdir()
    (tmp_path / "dcim" / "models.py").write_text(
        "from django.db import models\n\n\nclass BaseInterface(models.Model):\n"
        "    mtu = models.PositiveIntegerField(null=True)\n\n    class Meta:\n        abstract = True\n\n\n"
        "class Interface(BaseInterface):\n    name = models.CharField(max_length=64)\n")
    (_, edit), = _django_models.edits(tmp_path, [AddIndex(table="dcim_interface", columns=["mtu"],
                                                          name="dcim_interface_mtu_idx")])
    assert not edit.cannot, edit.cannot
    assert "models.Index(fields=['mtu'], name='dcim_interface_mtu_idx')" in edit.text
    assert edit.text.index("dcim_interface_mtu_idx") > edit.text.index("class Interface")
    assert any("AddIndex" in s for s in edit.state)


@pytest.mark.slow
def test_an_implicit_integer_key_widened(pg_url, tmp_path, capsys):
    """saleor's ids are Django's implicit AutoField (DEFAULT_AUTO_FIELD): widening one to bigint
    writes the key out as a BigAutoField, and the keys pointing at it follow in Django's state."""
    root = project(tmp_path / "site", pg_url, auto_field="django.db.models.AutoField")
    plan = write_all(root, {"op": "change_column_type", "table": "customers", "column": "id", "type": "bigint"},
                     capsys)
    manage(root, "migrate")
    assert apply_patches(root, plan) == ["shop/models.py"]
    assert "class Customer(models.Model):\n    id = models.BigAutoField(primary_key=True)\n    name = " in \
        (root / "shop" / "models.py").read_text()
    done = manage(root, "makemigrations", "--check", "--dry-run", ok=False)
    assert done.returncode == 0 and "No changes detected" in done.stdout, done.stdout + done.stderr
    with psycopg.connect(pg_url) as conn:
        types = dict(conn.execute(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE (table_name, column_name) IN (('customers', 'id'), ('shop_order', 'customer_id'))"))
    assert types == {"customers.id": "bigint", "shop_order.customer_id": "bigint"}


def test_an_explicit_auto_key_stays_auto(tmp_path):
    from flux_agent.model.operations import ChangeColumnType
    from flux_agent.write.tools import _django_models

    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "models.py").write_text(
        "from django.db import models\n\n\nclass Tag(models.Model):\n    id = models.AutoField(primary_key=True)\n")
    ((_, result),) = _django_models.edits(tmp_path, [ChangeColumnType(table="shop_tag", column="id", type="bigint")])
    assert "id = models.BigAutoField(primary_key=True)" in result.text  # not a BigIntegerField: ids keep coming
    assert result.state == [
        "migrations.AlterField('tag', 'id', models.BigAutoField(primary_key=True, serialize=False))"]


def _dependencies(text: str) -> list[tuple]:
    """A migration's Migration.dependencies, read from its tree (the file may be in black's layout)."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["dependencies"]:
            return [tuple(ast.literal_eval(e)) for e in node.value.elts]
    return []


@pytest.mark.slow
def test_a_plan_reaching_other_apps_tables_runs_after_their_migrations(pg_url, tmp_path, capsys):
    """saleor's product_product.id widened: the keys into it live in other apps' tables (a foreign key
    and a many-to-many field's own table here). The plan's first migration depends on those apps'
    latest migrations, so `migrate` from an empty database, which takes the apps' latest migrations
    in name order (shop before warehouse), makes their tables before the plan changes them."""
    models = {"shop/models.py": MODELS["shop/models.py"],
              "warehouse/models.py": "from django.db import models\n\n\nclass Bin(models.Model):\n"
                                     "    customer = models.ForeignKey('shop.Customer', on_delete=models.CASCADE)\n"
                                     "    favourites = models.ManyToManyField('shop.Customer', related_name='bins')\n"}
    root = project(tmp_path / "site", pg_url, auto_field="django.db.models.AutoField", models=models,
                   apps=("shop", "warehouse"))
    plan = write_all(root, {"op": "change_column_type", "table": "customers", "column": "id", "type": "bigint"},
                     capsys)
    first = sorted((root / "shop" / "migrations").glob("000[2-9]_*.py"))[0].read_text()
    assert ("warehouse", "0001_initial") in _dependencies(first)  # black may have requoted it, as makemigrations
    manage(root, "migrate")  # from an empty database
    with psycopg.connect(pg_url) as conn:
        types = {r[0] for r in conn.execute(
            "SELECT data_type FROM information_schema.columns WHERE column_name = 'customer_id' "
            "AND table_name IN ('warehouse_bin', 'warehouse_bin_favourites')")}
    assert types == {"bigint"}
    assert apply_patches(root, plan) == ["shop/models.py"]
    done = manage(root, "makemigrations", "--check", "--dry-run", ok=False)
    assert done.returncode == 0 and "No changes detected" in done.stdout, done.stdout + done.stderr


def test_a_field_renamed_to_a_name_its_class_reads_keeps_its_name(tmp_path):
    """healthchecks' Check.code renamed to uuid: a field named uuid hid the module from the field after
    it (default=uuid.uuid4), and models.py failed to import. It keeps its name and names the column (or,
    where its own call is one a migration cannot carry, the change is left to the user with a note)."""
    from flux_agent.model.operations import RenameColumn
    from flux_agent.write.tools import _django_models

    (tmp_path / "shop").mkdir()
    models_py = tmp_path / "shop" / "models.py"
    head = "import uuid\n\nfrom django.db import models\n\n\nclass Check(models.Model):\n"
    rename = [RenameColumn(table="shop_check", column="code", new_name="uuid")]
    models_py.write_text(head + "    code = models.TextField(unique=True)\n"
                                "    badge_key = models.UUIDField(default=uuid.uuid4)\n")
    ((_, result),) = _django_models.edits(tmp_path, rename)
    assert "    code = models.TextField(unique=True, db_column='uuid')\n" in result.text
    assert result.state == ["migrations.AlterField('check', 'code', models.TextField(unique=True, db_column='uuid'))"]
    models_py.write_text(head + "    code = models.UUIDField(default=uuid.uuid4, unique=True)\n")
    ((_, result),) = _django_models.edits(tmp_path, rename)
    assert result.text is None and result.cannot


def test_an_index_on_an_expression_gets_a_note_that_says_so(tmp_path):
    """healthchecks' "add an index on api_check (lower(name))": the note said no field had the column
    lower(name), though name is one; it says what Django needs instead (the index and its state)."""
    from flux_agent.model.operations import AddIndex
    from flux_agent.write.tools import _django_models

    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "models.py").write_text(
        "from django.db import models\n\n\nclass Check(models.Model):\n    name = models.TextField()\n")
    ((_, result),) = _django_models.edits(tmp_path, [AddIndex(table="shop_check", columns=["lower(name)"])])
    assert result.text is None and "an index on an expression (lower(name))" in result.cannot
    assert "AddIndex in the state_operations" in result.cannot


def test_a_new_field_goes_after_the_last_field_not_the_manager(tmp_path):
    """saleor's Order ends its fields with `objects = OrderManager()`: the new field went after the
    manager, which is no field."""
    from flux_agent.model.operations import AddColumn
    from flux_agent.write.tools import _django_models

    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "models.py").write_text(
        "from django.db import models\n\n\nclass Order(models.Model):\n    total = models.IntegerField()\n\n"
        "    objects = OrderManager()\n\n    class Meta:\n        ordering = ('-total',)\n")
    ((_, result),) = _django_models.edits(tmp_path, [AddColumn(table="shop_order", column="note", type="text")])
    assert "    total = models.IntegerField()\n    note = models.TextField(null=True)\n\n    objects = " in result.text


@pytest.mark.slow
@pytest.mark.parametrize("case", ["rename-column", "drop-column", "set-not-null", "change-type-int",
                                  "add-column-backfilled"])
@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
def test_models_and_migrations_agree_at_the_deploy_too(pg_url, tmp_path, capsys, monkeypatch, case, engine):
    """The commit that ships the code deploy holds the migrations `plan --write` wrote and the models.py
    edit: `makemigrations --check` (a project's CI) passes there, before `flux continue`, and the test
    database Django migrates (SQLite's too) has the models' columns; a plan that starts with its deploy
    (a dropped field, a NOT NULL) gets a migration of state operations only for it. Then again after."""
    import sqlite3

    root = project(tmp_path / "site", pg_url, sqlite_unless_postgres=True)
    if engine == "postgresql":
        monkeypatch.setenv("DB", "postgres")
    code, out = flux(capsys, "plan", "--project", str(root), "--op", json.dumps(OPS[case]), "--write", "--json")
    assert code == 0, out
    plan = json.loads(out)
    assert apply_patches(root, plan) == ["shop/models.py"]  # the deploy's commit: the migrations and the edit
    first = sorted((root / "shop" / "migrations").glob("000[2-9]_*.py"))
    assert first and sum("state_operations=[" in p.read_text() for p in first) == 1
    manage(root, "migrate")
    deploy = manage(root, "makemigrations", "--check", "--dry-run", ok=False)
    assert deploy.returncode == 0 and "No changes detected" in deploy.stdout, deploy.stdout + deploy.stderr
    fields = {"name": "a", "email": "e", "note": "n"}
    if case == "rename-column":
        fields["full_name"] = fields.pop("name")
    if case == "drop-column":
        del fields["email"]
    if case == "add-column-backfilled":
        fields["score"] = 1
    create = f"from shop.models import Customer; Customer.objects.create(**{fields!r}); print('made')"
    assert "made" in manage(root, "shell", "-c", create).stdout  # the new code against the migrated database
    for _ in plan["steps"]:
        if flux(capsys, "continue", "--project", str(root))[0] != 0:
            break
        manage(root, "migrate")
    written = sorted((root / "shop" / "migrations").glob("000[2-9]_*.py"))
    assert sum("state_operations=[" in p.read_text() for p in written) == 1
    assert len(written) == sum(s["phase"] != "code" for s in plan["steps"]) + (plan["steps"][0]["phase"] == "code")
    done = manage(root, "makemigrations", "--check", "--dry-run", ok=False)
    assert done.returncode == 0 and "No changes detected" in done.stdout, done.stdout + done.stderr
    assert "made" in manage(root, "shell", "-c", create).stdout
    if engine == "sqlite" and case == "drop-column":
        with sqlite3.connect(root / "proj" / "db.sqlite3") as db:
            assert "email" not in {r[1] for r in db.execute("PRAGMA table_info(customers)")}


@pytest.mark.slow
@pytest.mark.parametrize("case", ["rename-column", "add-column-backfilled", "drop-column", "rename-indexed"])
def test_a_project_that_also_runs_sqlite_migrates_there_too(pg_url, tmp_path, capsys, monkeypatch, case):
    """healthchecks runs SQLite by default (its tests too) and PostgreSQL when DB=postgres. Flux's SQL
    is PostgreSQL's: on SQLite the migrations make the state operations as Django makes them, so
    `migrate` works on both, forwards and back, and the models agree with either."""
    import sqlite3

    root = project(tmp_path / "site", pg_url, sqlite_unless_postgres=True)
    plan = write_all(root, OPS[case], capsys, patch_at_deploy=True)
    first = sorted((root / "shop" / "migrations").glob("000[2-9]_*.py"))[0].read_text()
    assert "class RunSQLOnPostgreSQL(migrations.RunSQL):" in first and "on sqlite3" in first
    manage(root, "migrate")  # SQLite: Django's own operations
    done = manage(root, "makemigrations", "--check", "--dry-run", ok=False)
    assert done.returncode == 0 and "No changes detected" in done.stdout, done.stdout + done.stderr
    with sqlite3.connect(root / "proj" / "db.sqlite3") as db:
        customers = {r[1] for r in db.execute("PRAGMA table_info(customers)")}
        orders = {r[1] for r in db.execute("PRAGMA table_info(shop_order)")}
    expected = {"rename-column": ("full_name", "name"), "add-column-backfilled": ("score", None),
                "drop-column": (None, "email"), "rename-indexed": (None, None)}[case]
    if expected[0]:
        assert expected[0] in customers
    if expected[1]:
        assert expected[1] not in customers
    if case == "rename-indexed":
        assert "amount" in orders and "total" not in orders
    manage(root, "migrate", "shop", "0001")  # and back
    monkeypatch.setenv("DB", "postgres")
    manage(root, "migrate")  # PostgreSQL: Flux's SQL
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM django_migrations WHERE app = 'shop'").fetchone()[0] == \
            1 + sum(s["phase"] != "code" for s in plan["steps"])


TRANSLATED = {
    "shop/models.py": """from django.db import models
from django.utils.translation import gettext_lazy as _


class Site(models.Model):
    facility = models.CharField(verbose_name=_('facility'), max_length=50, blank=True,
                                help_text=_('Local facility ID or description'))
    clone_fields = ('facility',)

    class Meta:
        db_table = "sites"
""",
}


@pytest.mark.slow
@pytest.mark.parametrize("op", [{"op": "rename_column", "table": "sites", "column": "facility", "new_name": "building"},
                                {"op": "change_column_type", "table": "sites", "column": "facility",
                                 "type": "varchar(100)"}])
def test_a_field_with_translated_texts_is_edited_and_its_state_holds_the_text(pg_url, tmp_path, capsys, op):
    """netbox's fields: verbose_name=_('facility') (gettext_lazy). makemigrations writes the text of a
    lazy string; the state operations do so too, where Flux left the model to the user before."""
    root = project(tmp_path / "site", pg_url, models=TRANSLATED, apps=("shop",))
    plan = write_all(root, op, capsys)
    assert [c["path"] for c in plan["code_changes"] if c["patch"]] == ["shop/models.py"], plan["code_changes"]
    states = "".join(p.read_text() for p in sorted((root / "shop" / "migrations").glob("000[2-9]_*.py")))
    assert "verbose_name='facility'" in states.replace('"', "'") and "_(" not in states  # black's quotes or ours
    manage(root, "migrate")
    apply_patches(root, plan)
    models_py = (root / "shop" / "models.py").read_text()
    assert "verbose_name=_('facility')" in models_py  # the model keeps its own, and its layout
    if op["op"] == "rename_column":
        assert "help_text=_('Local facility ID or description'),\n" + " " * 32 + "db_column='building')" in models_py
    done = manage(root, "makemigrations", "--check", "--dry-run", ok=False)
    assert done.returncode == 0 and "No changes detected" in done.stdout, done.stdout + done.stderr


@pytest.mark.slow
def test_a_models_file_with_crlf_line_endings(pg_url, tmp_path, capsys):
    """babybuddy keeps its models.py with CRLF: the patch, made against the file as Python reads it,
    did not apply (`patch`: different line endings). It is made in the file's own line endings now,
    changes only the edited lines, and the models agree with the migrations after."""
    root = project(tmp_path / "site", pg_url)
    models = root / "shop" / "models.py"
    models.write_bytes(models.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    lines = models.read_bytes().count(b"\r\n")
    write_all(root, OPS["rename-column"], capsys, patch_at_deploy=True)
    assert models.read_bytes().count(b"\n") == models.read_bytes().count(b"\r\n") == lines
    manage(root, "migrate")
    done = manage(root, "makemigrations", "--check", "--dry-run", ok=False)
    assert done.returncode == 0 and "No changes detected" in done.stdout, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("formatting", [True, False])
def test_models_edit_comes_in_the_project_s_black_layout(pg_url, tmp_path, capsys, formatting):
    """A project formatting with black ([tool.black], 60 columns here) gets its models.py edit in black's
    layout (the file was in it before): `black --check` passes after the patch, and makemigrations finds
    nothing. With `format_files: false` the same check fails: the edit alone is not in that layout."""
    black = shutil.which("black", path=str(Path(sys.executable).parent)) or shutil.which("black")
    if black is None:
        pytest.skip("black is not installed (pip install -e '.[test]')")
    root = project(tmp_path / "site", pg_url)
    (root / "pyproject.toml").write_text("[tool.black]\nline-length = 60\n")
    subprocess.run([black, "-q", "shop/models.py"], cwd=root, check=True)
    if not formatting:
        (root / ".flux.yaml").write_text("format_files: false\n")
    op = {"op": "add_column", "table": "customers", "column": "preferred_contact_address", "type": "varchar(250)",
          "nullable": False, "default": "'unknown'"}
    plan = write_all(root, op, capsys)
    assert apply_patches(root, plan) == ["shop/models.py"]
    done = subprocess.run([black, "--check", "shop/models.py"], cwd=root, capture_output=True, text=True)
    assert (done.returncode == 0) == formatting, done.stdout + done.stderr
    manage(root, "migrate")
    done = manage(root, "makemigrations", "--check", "--dry-run", ok=False)
    assert done.returncode == 0 and "No changes detected" in done.stdout, done.stdout + done.stderr


PROFILE = '''from django.db import models


class Profile(models.Model):
    tz = models.CharField(max_length=36)
    theme = models.CharField(max_length=10)

    class Meta:
        indexes = [models.Index(fields=["theme"], name="profile_theme_idx")]

    def to_dict(self):
        return {"tz": self.tz, "theme": self.theme}
'''


def test_a_dropped_field_named_in_a_method_is_removed_and_its_state_kept_either_way(tmp_path):
    """healthchecks' Profile.tz: a dict key "tz" in a method was taken for Meta naming the field, the edit
    refused, and the RemoveField state operation went with it; makemigrations then wrote one that migrate
    failed on (the column was gone). A method is the application's code; a name in Meta still refuses the
    edit, and the migration's state loses the field all the same."""
    from flux_agent.model.operations import DropColumn
    from flux_agent.write.tools import _django_models

    (tmp_path / "accounts").mkdir()
    (tmp_path / "accounts" / "models.py").write_text(PROFILE)
    ((_, tz),) = _django_models.edits(tmp_path, [DropColumn(table="accounts_profile", column="tz")])
    assert not tz.cannot and "    tz = models.CharField" not in tz.text
    assert tz.state == ["migrations.RemoveField('profile', 'tz')"]
    ((_, theme),) = _django_models.edits(tmp_path, [DropColumn(table="accounts_profile", column="theme")])
    assert "names the field theme elsewhere (Meta or an index)" in theme.cannot and theme.text is None
    assert theme.state == ["migrations.RemoveField('profile', 'theme')"]
    from flux_agent.model.plan import CodeChange, Plan
    from flux_agent.write.tools.django import state_operations

    plan = Plan(description="drop", type="safe", tool="django", steps=[],
                operations=[DropColumn(table="accounts_profile", column="theme")],
                code_changes=[CodeChange(path="accounts/models.py", patch="", why=theme.cannot)])
    assert state_operations(plan, tmp_path, "accounts") == ["migrations.RemoveField('profile', 'theme')"]


def test_a_many_to_many_table_s_plan_goes_to_the_app_of_its_model(tmp_path):
    """healthchecks: an index on api_channel_checks (Channel.checks, a ManyToManyField) was written in
    the detected accounts app, and a later rollback of the api app, which did not depend on it, failed."""
    from flux_agent.model.operations import AddIndex
    from flux_agent.model.plan import Plan
    from flux_agent.write.tools.django import owning_folder

    root = tmp_path / "site"
    for rel, text in MODELS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    plan = Plan(description="m2m", type="safe", tool="django", steps=[], operations=[
        AddIndex(table="accounts_profile_friends", columns=["profile_id"])])
    assert str(owning_folder(plan, root)) == "accounts/migrations"
    plan.operations = [AddIndex(table="nowhere_at_all", columns=["id"])]
    assert owning_folder(plan, root) is None
