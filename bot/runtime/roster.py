"""Who is calling: roster rows from the Agents tab, looked up by email or Slack user ID."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.errors import NotOnRoster
from bot.ids import clean_text
from bot.runtime.shift import on_shift, shift_problem
from bot.stores.workbook import Workbook


@dataclass(frozen=True)
class Member:
    """A roster member and the roles they hold."""

    email: str
    name: str
    slack_id: str
    roles: tuple[str, ...]
    specializations: frozenset[str]
    capacity: int
    active: bool
    system: bool = False  # the scheduler or the CLI operator: not a roster row
    timezone: str = ""  # IANA name; blank: UTC
    working_hours: str = ""  # "09:00-18:00"; blank: always on shift

    @property
    def handle(self) -> str:
        return self.email.split("@", 1)[0]

    def on_shift(self, moment: datetime) -> bool:
        """Whether ``moment`` is inside this member's working hours (unreadable hours: yes)."""
        return on_shift(self.timezone, self.working_hours, moment)

    @property
    def shift_problem(self) -> str | None:
        """Why this member's Timezone or Working Hours cannot be read, if they cannot."""
        return shift_problem(self.timezone, self.working_hours)


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in ("true", "yes", "1", "y")


def _split(value: object) -> list[str]:
    return [p.strip().lower() for p in str(value or "").replace(";", ",").split(",") if p.strip()]


def member_from_row(row: dict) -> Member:
    try:
        capacity = int(float(row.get("capacity") or 0))
    except ValueError:
        capacity = 0
    return Member(
        email=str(row["email"]).strip().lower(),
        name=str(row.get("name") or ""),
        slack_id=str(row.get("Slack user ID") or ""),
        roles=tuple(r for r in _split(row.get("role")) if r in ("manager", "field")),
        specializations=frozenset(_split(row.get("specializations"))),
        capacity=capacity,
        active=_truthy(row.get("active")),
        timezone=str(row.get("Timezone") or "").strip(),
        working_hours=str(row.get("Working Hours") or "").strip(),
    )


class Roster:
    """The Agents tab as members."""

    def __init__(self, rows: list[dict]):
        self.members = [member_from_row(r) for r in rows if r.get("email")]

    @classmethod
    def load(cls, workbook: Workbook) -> Roster:
        return cls(workbook.read("Agents"))

    def by_email(self, email: str) -> Member | None:
        key = (email or "").strip().lower()
        return next((m for m in self.members if m.email == key), None)

    def by_slack_id(self, slack_id: str) -> Member | None:
        return next((m for m in self.members if slack_id and m.slack_id == slack_id), None)

    def resolve(self, who: str) -> Member:
        """The active member with this email or Slack ID, or NotOnRoster."""
        member = self.by_email(who) or self.by_slack_id(who)
        if member is None or not member.active or not member.roles:
            raise NotOnRoster(
                f"{clean_text(who)[:80] or 'You'} is not on the ECM roster, so I can't act for "
                "you. Ask an ECM manager to add you to the Agents tab."
            )
        return member

    def field_agents(self) -> list[Member]:
        """Members holding the field role (inactive ones included)."""
        return [m for m in self.members if "field" in m.roles]

    def resolve_agent(self, ref: str) -> Member:
        """A member named by email, Slack ID, @handle or <@U123> mention."""
        text = (ref or "").strip().strip("<>").lstrip("@")
        text = text.split("|", 1)[0]
        member = self.by_email(text) or self.by_slack_id(text)
        if member is None:
            member = next((m for m in self.members if m.handle == text.lower()), None)
        if member is None:
            raise NotOnRoster(f"'{clean_text(str(ref))[:80]}' is not on the ECM roster.")
        return member
