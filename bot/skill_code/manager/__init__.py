"""Manager skills: triage, assignment, dashboard, patterns, daily flow."""
