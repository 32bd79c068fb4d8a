"""The dev database: a real PostgreSQL holding the project's schema, built from the project's own history and cached; PostgreSQL is the truth Flux reads."""
