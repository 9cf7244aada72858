"""When an agent is back: a small strict reader of "away until …" in the agent's own time zone.

Accepted: ``tomorrow`` (the start of tomorrow's shift, or midnight without working hours),
``tomorrow HH:MM``, ``HH:MM`` (the next time the clock shows it), ``YYYY-MM-DD`` (the start of
that day's shift) and ``YYYY-MM-DD HH:MM``. Anything else, a time not in the future, or one more
than ``MAX_AWAY`` ahead is refused with the accepted forms."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.clock import parse_ts
from bot.errors import InputError
from bot.runtime.roster import Member
from bot.runtime.shift import shift_hours, zone

MAX_AWAY = timedelta(days=30)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _tz(member: Member) -> tzinfo:
    return zone(member.timezone) or UTC


def usage(member: Member) -> str:
    where = member.timezone or "UTC"
    return (
        "Say when you are back: `away until tomorrow`, `away until 17:00`, "
        f"`away until 2026-12-03 09:00` (your time zone, {where}), or `back` when you return."
    )


def _clock(text: str) -> time | None:
    found = _CLOCK.fullmatch(text)
    if not found:
        return None
    h, m = int(found.group(1)), int(found.group(2))
    return time(h, m) if h < 24 and m < 60 else None


def _day(text: str) -> date | None:
    found = _DAY.fullmatch(text)
    if not found:
        return None
    try:
        return date(*(int(g) for g in found.groups()))
    except ValueError:
        return None


def _shift_start(member: Member) -> time:
    span = shift_hours(member.working_hours)
    return span[0] if span else time(0, 0)


def local_text(member: Member, stamp: str) -> str:
    """A stored UTC stamp in the member's time zone, e.g. ``2026-12-03 09:00 Asia/Dubai``."""
    moment = parse_ts(stamp).astimezone(_tz(member))
    return moment.strftime("%Y-%m-%d %H:%M") + f" {member.timezone or 'UTC'}"


def parse_until(value: object, member: Member, moment: datetime) -> datetime:
    """``value`` as a UTC moment after ``moment``, read in ``member``'s time zone; else
    InputError naming the accepted forms."""
    text = " ".join(str(value or "").strip().lower().split())
    text = text.removeprefix("until ").strip()
    if not text:
        raise InputError(usage(member), field="until")
    tz = _tz(member)
    local_now = moment.astimezone(tz)
    words = text.split(" ")
    local: datetime | None = None
    if words[0] == "tomorrow" and len(words) <= 2:
        at = _clock(words[1]) if len(words) == 2 else _shift_start(member)
        if at is not None:
            local = datetime.combine(local_now.date() + timedelta(days=1), at, tz)
    elif len(words) == 1 and (at := _clock(words[0])) is not None:
        local = datetime.combine(local_now.date(), at, tz)
        if local <= local_now:
            local += timedelta(days=1)
    elif len(words) <= 2 and (day := _day(words[0])) is not None:
        at = _clock(words[1]) if len(words) == 2 else _shift_start(member)
        if at is not None:
            local = datetime.combine(day, at, tz)
    if local is None:
        raise InputError(
            f"Sorry, I can't read '{text[:40]}' as a time, so nothing was changed. "
            + usage(member),
            field="until",
        )
    until = local.astimezone(UTC).replace(microsecond=0)
    if until <= moment:
        raise InputError(
            f"{local.strftime('%Y-%m-%d %H:%M')} ({member.timezone or 'UTC'}) has already "
            "passed, so nothing was changed. Give a time in the future.",
            field="until",
        )
    if until - moment > MAX_AWAY:
        raise InputError(
            "That is more than 30 days away, so nothing was changed. Ask an ECM manager to "
            "make you inactive on the roster for a longer absence.",
            field="until",
        )
    return until
