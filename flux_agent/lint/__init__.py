"""Judging migration SQL: the rule engine, its context, ignore and phase comments, and the rules."""
