"""Migrations for a Django project that runs another database too (healthchecks: SQLite by default,
in its tests as well, PostgreSQL in production): Flux's SQL runs on PostgreSQL, and on the other
database the plan's state operations are made as Django makes them, so its test suite still migrates."""

from __future__ import annotations

import ast
from pathlib import Path

from ...devdb.runners.django import manage_py, settings_files
from ...errors import FluxInputError

CLASS = "RunSQLOnPostgreSQL"

# Written into each migration (a migration cannot import Flux). The other database gets the state
# operations as database operations, as SeparateDatabaseAndState runs its database_operations.
SOURCE = f'''

class {CLASS}(migrations.RunSQL):
    """Flux's SQL on PostgreSQL; on another database the project runs (SQLite in its tests) the
    state operations are made as Django makes them."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        for op in self.state_operations:
            to_state = from_state.clone()
            op.state_forwards(app_label, to_state)
            op.database_forwards(app_label, schema_editor, from_state, to_state)
            from_state = to_state

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        states = [to_state]
        for op in self.state_operations:
            states.append(states[-1].clone())
            op.state_forwards(app_label, states[-1])
        for i in reversed(range(len(self.state_operations))):
            self.state_operations[i].database_backwards(app_label, schema_editor, states[i + 1], states[i])
'''.splitlines()


def other_engines(project: Path, migrations_dir: str) -> list[str]:
    """The database engines other than PostgreSQL the project's settings name (sqlite3, mysql, ...),
    read from the settings module manage.py names, never imported."""
    try:
        files = settings_files(manage_py(Path(project), migrations_dir))
    except FluxInputError:  # no manage.py: nothing says another database is used
        return []
    found = set()
    for file in files:
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ".backends." in node.value:
                engine = node.value.rsplit(".", 1)[-1]
                if node.value.startswith(("django.db.", "django.contrib.gis.db.")) and "postg" not in engine:
                    found.add(engine)
    return sorted(found)
