"""From typed operations to a plan: the planner, one module per operation, estimates and the summary."""
