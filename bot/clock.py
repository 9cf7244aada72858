"""Time in one place: UTC, second precision, and the timestamp text used in every store."""

from __future__ import annotations

from datetime import UTC, datetime

TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def now() -> datetime:
    """The current UTC time, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def ts(moment: datetime) -> str:
    """A datetime as stored text, 'YYYY-MM-DD HH:MM:SS' in UTC (sorts and compares as text)."""
    return moment.astimezone(UTC).strftime(TS_FORMAT)


def parse_ts(text: object) -> datetime:
    """Parse stored timestamp text (or a datetime from a database driver) as UTC."""
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    return datetime.strptime(str(text)[:19].replace("T", " "), TS_FORMAT).replace(tzinfo=UTC)


def hours_between(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)
