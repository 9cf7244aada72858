"""Pure triage logic: scoring, assignment and anomaly statistics (no I/O)."""
