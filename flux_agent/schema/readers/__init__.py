"""One reader per schema source (schema files, dumps, a live database)."""
