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
