"""Which shared resources one request of each skill needs (progressive disclosure).

Whole files are listed by path; for the per-reason YAML files only the entry of the
request's stuck reason is included, and for order-details only that reason's runbook. Field
requests get no SQL: their queries were run by code, and the agent explains, it doesn't query.
"""

from __future__ import annotations

from bot.paths import CONFIG_DIR, QUERIES_DIR, RUNBOOKS_DIR

Q, C = QUERIES_DIR, CONFIG_DIR
STUCK, KG = C / "stuck-reasons.yaml", C / "knowledge-graph.yaml"

# skill -> (whole files, per-reason yaml files)
NEEDS = {
    "triage-and-assign": ([Q / "ecm-pending-list.sql", C / "scoring.yaml", STUCK], []),
    "assign-tickets": ([], [STUCK]),
    "ecm-daily-flow": (
        [
            Q / "ecm-pending-list.sql",
            Q / "ecm-stuck-trends.sql",
            C / "scoring.yaml",
            C / "patterns.yaml",
            STUCK,
        ],
        [],
    ),
    "pattern-intelligence": ([Q / "ecm-stuck-trends.sql", C / "patterns.yaml"], []),
    "run-ecm": ([Q / "ecm-dashboard-counts.sql", Q / "ecm-pending-list.sql"], [STUCK]),
    # field requests: code has already run their queries; the agent explains, it doesn't query
    "my-tickets": ([], [STUCK, KG]),
    "order-details": ([], [STUCK, KG]),
    "resolve-ticket": ([], [STUCK]),
    "escalate-ticket": ([], [STUCK]),
}
NEEDS_RUNBOOK = {"order-details"}


def request_files(skill: str, reason: str | None) -> tuple[list, list]:
    """(whole files, per-reason yaml files) for one request of ``skill``."""
    whole, per_reason = NEEDS.get(skill, ([], []))
    whole = list(whole)
    if skill in NEEDS_RUNBOOK and reason:
        whole.append(RUNBOOKS_DIR / f"{reason}.md")
    return whole, list(per_reason) if reason else []
