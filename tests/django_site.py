"""What the Django tests' little projects share: a manage.py naming the settings module
acme.settings, and those settings with the apps given, their own database unreachable (only
Flux's dev database may be used)."""

MANAGE = """
    import os
    import sys

    if __name__ == "__main__":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings")
        from django.core.management import execute_from_command_line
        execute_from_command_line(sys.argv)
    """


def settings(*apps: str) -> str:
    """acme/settings.py with INSTALLED_APPS `apps`, its DATABASES on a host that does not resolve."""
    return f"""
    SECRET_KEY = "flux-test"
    INSTALLED_APPS = {list(apps)!r}
    DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": "acme", "HOST": "db.acme.invalid"}}}}
    USE_TZ = True
    """


def initial_book(*fields: str) -> str:
    """library's first migration: the model Book with a big serial id and `fields`, each as
    CreateModel lists one (`("name", models.TextField())`)."""
    listed = "".join(f"\n                {f}," for f in fields)
    return f"""
    from django.db import migrations, models


    class Migration(migrations.Migration):
        initial = True
        dependencies = []
        operations = [
            migrations.CreateModel(name="Book", fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),{listed}
            ]),
        ]
    """
