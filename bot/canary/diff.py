"""How far a candidate's plan is from the live plan it shadowed (a pure function).

A plan maps each order to a ``Placement``: the agent it goes to ("" when it is left
unassigned) and its priority. Over every order either plan holds (an order only one plan
holds counts as unassigned, with no priority, in the other):

- ``agent_share``: the share of orders whose agent differs (unassigned counts as an agent);
- ``priority_share``: the share whose priority differs;
- ``share``: the share whose agent or priority differs (the union; the promotion rule's diff);
- ``only_live``: the orders the live plan assigns and the candidate leaves unassigned;
  ``only_candidate`` the reverse.

No orders: every share is 0."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

NOWHERE = None


@dataclass(frozen=True)
class Placement:
    """Where one plan puts one order."""

    agent: str
    priority: str
    score: float = 0.0
    why: str = ""


@dataclass(frozen=True)
class PlanDiff:
    orders: int
    agent_differs: tuple[str, ...]
    priority_differs: tuple[str, ...]
    either_differs: tuple[str, ...]
    only_live: tuple[str, ...]
    only_candidate: tuple[str, ...]

    def _share(self, items: tuple[str, ...]) -> float:
        return len(items) / self.orders if self.orders else 0.0

    @property
    def agent_share(self) -> float:
        return self._share(self.agent_differs)

    @property
    def priority_share(self) -> float:
        return self._share(self.priority_differs)

    @property
    def share(self) -> float:
        return self._share(self.either_differs)

    def as_dict(self) -> dict:
        return {
            "orders": self.orders,
            "agent_differs": len(self.agent_differs),
            "priority_differs": len(self.priority_differs),
            "either_differs": len(self.either_differs),
            "agent_share": round(self.agent_share, 4),
            "priority_share": round(self.priority_share, 4),
            "share": round(self.share, 4),
            "only_live": list(self.only_live),
            "only_candidate": list(self.only_candidate),
        }


_ABSENT = Placement("", "")


def diff_plans(live: Mapping[str, Placement], candidate: Mapping[str, Placement]) -> PlanDiff:
    """The differences between two plans of the same input, as defined above."""
    agent, priority, either, only_live, only_candidate = [], [], [], [], []
    for oid in sorted(set(live) | set(candidate)):
        a, b = live.get(oid, _ABSENT), candidate.get(oid, _ABSENT)
        a_agent, b_agent = a.agent.strip().lower(), b.agent.strip().lower()
        moved = a_agent != b_agent
        rescored = a.priority != b.priority or oid not in live or oid not in candidate
        if moved:
            agent.append(oid)
        if rescored:
            priority.append(oid)
        if moved or rescored:
            either.append(oid)
        if a_agent and not b_agent:
            only_live.append(oid)
        elif b_agent and not a_agent:
            only_candidate.append(oid)
    return PlanDiff(
        len(set(live) | set(candidate)),
        tuple(agent),
        tuple(priority),
        tuple(either),
        tuple(only_live),
        tuple(only_candidate),
    )
