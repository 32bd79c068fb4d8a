"""Replaying migration SQL into the Schema model, offline: the fast path beside the dev database."""
