"""Running skills: the per-run context, the executor that records executions, the roster
lookup, and the dispatcher that routes a message to the caller's role's agent."""
