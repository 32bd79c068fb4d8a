"""`flux status`: which steps of Flux's plans a database has applied (effects.py says what each
step leaves in the catalogs, catalog.py reads them, report.py turns both into states and a next
action)."""
