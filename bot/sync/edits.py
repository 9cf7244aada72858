"""The rules a person's edit in the sheet must pass before it reaches the system of record:
the same as the bot's own actions (valid statuses, active field agents, a well-formed roster).

Which cells people may edit in the sheet:

| tab         | editable                                   | everything else            |
|-------------|--------------------------------------------|----------------------------|
| Agents      | every column but email; new rows (members) | -                          |
| Assignments | Assigned Agent, Status                     | reverted (the bot's cells) |
| Resolutions | nothing (the bot's log)                    | reverted                   |
| Escalations | nothing (the bot's log)                    | reverted                   |
"""

from __future__ import annotations

import re

from bot.errors import InputError
from bot.ids import clean_text
from bot.runtime.shift import shift_hours, zone

STATUSES = ("ASSIGNED", "IN_PROGRESS", "WAITING", "RESOLVED", "ESCALATED", "CLOSED")
EDITABLE = {
    "Agents": {
        "name",
        "Slack user ID",
        "role",
        "specializations",
        "capacity",
        "active",
        "Timezone",
        "Working Hours",
    },
    "Assignments": {"Assigned Agent", "Status"},
    "Resolutions": set(),
    "Escalations": set(),
}
KEYED = {"Agents": "email", "Assignments": "Order ID"}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ROLES = {"manager", "field"}


def check_edit(tab: str, column: str, value: str, field_agents: set[str]) -> str:
    """The value to store for a person's edit of ``column``, or InputError saying why not.
    ``field_agents``: the active field agents' emails (lower case). Hidden control
    characters (NUL, bidirectional overrides) are dropped first, as from any typed text."""
    text = clean_text(value).strip()
    if column not in EDITABLE[tab]:
        raise InputError(f"{tab} › {column} is kept by the bot; edit it through Slack instead")
    if tab == "Assignments" and column == "Status":
        if text.upper() == "WAITING":  # a snooze has an end and a note: only the bot sets it
            raise InputError(
                "Status WAITING is set by the owner's `snooze ORDER_ID DURATION NOTE`, which "
                "records when it ends; set another status here"
            )
        if text.upper() not in STATUSES:
            raise InputError(f"Status '{text}' is not one of {', '.join(STATUSES)}")
        return text.upper()
    if tab == "Assignments" and column == "Assigned Agent":
        if text.lower() not in field_agents:
            raise InputError(f"'{text}' is not an active field agent on the roster")
        return text.lower()
    if tab == "Agents":
        return check_roster_cell(column, text)
    return text


def check_roster_cell(column: str, text: str) -> str:
    """One roster cell as stored, or InputError."""
    text = clean_text(text)
    if column == "email":
        if not EMAIL.fullmatch(text):
            raise InputError(f"'{text}' is not an email address")
        return text.lower()
    if column == "role":
        roles = {r.strip().lower() for r in text.split(",") if r.strip()}
        if not roles or roles - ROLES:
            raise InputError(f"role '{text}' must be manager, field, or both (comma-separated)")
        return ",".join(sorted(roles))
    if column == "capacity":
        if not text.isdigit() or int(text) > 500:
            raise InputError(f"capacity '{text}' must be a whole number from 0 to 500")
        return str(int(text))
    if column == "active":
        if text.upper() not in ("TRUE", "FALSE"):
            raise InputError(f"active '{text}' must be TRUE or FALSE")
        return text.upper()
    if column == "Timezone" and text.strip() and zone(text) is None:
        raise InputError(f"Timezone '{text}' is not an IANA time zone such as Asia/Dubai")
    if column == "Working Hours" and text.strip() and shift_hours(text) is None:
        raise InputError(f"Working Hours '{text}' must look like 09:00-18:00")
    return text.strip() if column in ("Timezone", "Working Hours") else text
