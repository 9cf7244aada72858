"""The catalog of tool names a skill may be granted, and which role each belongs to.

DEC-011 lives here as data: scoring and assignment tools are manager-only, runbook tools are
field-only. A config that grants a tool across that line fails to load, and the guard refuses
such a call at run time whatever the config says.
"""

from __future__ import annotations

MANAGER_ONLY = frozenset(
    {
        "read_pending_list",
        "score_orders",
        "assign_orders",
        "write_assignments",
        "write_escalations",
        "detect_patterns",
        "read_dashboard",
        "run_skill",
    }
)
FIELD_ONLY = frozenset(
    {
        "load_runbook",
        "read_my_queue",
        "update_my_ticket",
        "write_resolution",
        "escalate_my_ticket",
    }
)
SHARED = frozenset({"run_query", "read_config", "read_roster", "read_knowledge_graph"})
ALL_TOOLS = MANAGER_ONLY | FIELD_ONLY | SHARED

DEC_011 = "DEC-011: Manager NEVER loads runbooks. Field NEVER computes priority scores."


def forbidden_for(role: str) -> frozenset[str]:
    """Tools that a skill of this role may never call, whatever its config grants."""
    return FIELD_ONLY if role == "manager" else MANAGER_ONLY
