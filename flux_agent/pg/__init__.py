"""What PostgreSQL does and how its SQL is written: quoting, parsing and printing, types, locks, DDL (a leaf)."""
