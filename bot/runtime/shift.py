"""Working hours: an agent's time zone and shift from the Agents tab, and whether a moment
falls inside it. Blank means UTC and always on shift; so does a value that cannot be read,
so a typo in the sheet never stops a warning or an assignment (``ecm-bot doctor`` names it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

HOURS = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


def zone(text: str) -> tzinfo | None:
    """The IANA time zone named by ``text`` (blank: UTC), or None when there is none."""
    name = (text or "").strip()
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def shift_hours(text: str) -> tuple[time, time] | None:
    """``"09:00-18:00"`` as (start, end); an end before the start runs past midnight
    (``"22:00-06:00"``). None when ``text`` is not a range of two clock times."""
    found = HOURS.fullmatch(text or "")
    if not found:
        return None
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        return None
    end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
    start = time(h1, m1)
    return None if start == end else (start, end)


def shift_problem(timezone: str, hours: str) -> str | None:
    """Why these roster cells cannot be read (then the agent counts as always on shift)."""
    if zone(timezone) is None:
        return f"Timezone {timezone.strip()!r} is not an IANA time zone such as Asia/Dubai"
    if (hours or "").strip() and shift_hours(hours) is None:
        return f"Working Hours {hours.strip()!r} must look like 09:00-18:00"
    return None


def on_shift(timezone: str, hours: str, moment: datetime) -> bool:
    """Whether ``moment`` (naive: UTC) falls in the working hours, in the agent's time zone."""
    tz, span = zone(timezone), shift_hours(hours)
    if tz is None or span is None:
        return True
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(tz).time().replace(tzinfo=None)
    start, end = span
    if start < end:
        return start <= local < end
    return local >= start or local < end  # overnight: 22:00-06:00
