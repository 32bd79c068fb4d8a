"""The deterministic plain-English parser: a request in words -> typed operations, resolved against a schema."""
