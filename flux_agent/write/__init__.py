"""Writing a plan as migration files in the project's own tool format, one deploy group at a time."""
