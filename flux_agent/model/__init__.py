"""Every data shape Flux passes around, one pydantic model each: operations, schema,
plan, settings, and the closed sets of words they use (terms)."""
