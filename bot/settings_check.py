"""What an operator can get wrong in the environment, found before the bot silently runs on
embedded data: half-configured systems (a variable without its partner) and malformed values.
Each problem names the variable and says what it should be. Used by ``ecm-bot doctor``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

BOOLEANS = {"true", "false", "1", "0", "yes", "no"}
PAIRS = (
    # (variables set, variables then required, the system)
    (("GOOGLE_SHEETS_CREDENTIALS",), ("ECM_SPREADSHEET_ID",), "Google Sheets"),
    (("ECM_SPREADSHEET_ID",), ("GOOGLE_SHEETS_CREDENTIALS",), "Google Sheets"),
    (("REDSHIFT_USER",), ("REDSHIFT_HOST|REDSHIFT_URL",), "Redshift"),
    (("REDSHIFT_PASSWORD",), ("REDSHIFT_HOST|REDSHIFT_URL",), "Redshift"),
    (("REDSHIFT_HOST",), ("REDSHIFT_DATABASE", "REDSHIFT_USER"), "Redshift"),
    (("SLACK_BOT_TOKEN",), ("SLACK_SIGNING_SECRET|SLACK_APP_TOKEN",), "Slack"),
    (("SLACK_APP_TOKEN",), ("SLACK_BOT_TOKEN",), "Slack"),
    (("SLACK_SIGNING_SECRET",), ("SLACK_BOT_TOKEN",), "Slack"),
    (("ECM_ALERT_CHANNEL",), ("SLACK_BOT_TOKEN",), "Slack alerts"),
    (("PAGERDUTY_EVENTS_URL",), ("PAGERDUTY_ROUTING_KEY",), "PagerDuty"),
)
NUMBERS = {  # variable: (lowest, highest)
    "ECM_LLM_TIMEOUT": (1, 600),
    "ECM_SHEETS_SYNC_SECONDS": (5, 3600),
    "ECM_KEEP_EXECUTIONS_DAYS": (1, 3650),
    "ECM_DATABASE_POOL_SIZE": (1, 100),
    "ECM_HEALTH_PORT": (1, 65535),
    "PORT": (1, 65535),
    "REDSHIFT_PORT": (1, 65535),
    "ECM_ALERT_WINDOW_MINUTES": (1, 10080),
    "ECM_ALERT_CHECK_SECONDS": (10, 3600),
    "ECM_SLA_WATCH_SECONDS": (30, 3600),
    "ECM_ALERT_SYNC_LAG_SECONDS": (30, 86400),
    "ECM_MCP_TOKEN_DAYS": (1, 366),
}
CHOICES = {  # variable: the values it may take (case-insensitive)
    "ECM_LOG_FORMAT": ("text", "json"),
}
URLS = {
    "ECM_DATABASE_URL": ("postgresql", "postgres"),
    "REDSHIFT_URL": ("redshift", "postgresql", "postgres"),
    "SLACK_API_URL": ("https", "http"),
    "ECM_SHEETS_API_URL": ("https", "http"),
    "ANTHROPIC_BASE_URL": ("https", "http"),
    "OPENAI_BASE_URL": ("https", "http"),
    "PAGERDUTY_EVENTS_URL": ("https", "http"),
    "OTEL_EXPORTER_OTLP_ENDPOINT": ("https", "http"),
    "ECM_MCP_PUBLIC_URL": ("https", "http"),
}
ROUTING_KEY = re.compile(r"[a-z0-9]{32}")
"""A PagerDuty Events API v2 integration key: 32 lowercase letters and digits."""


def _set(env: Mapping[str, str], name: str) -> bool:
    return any(env.get(n, "").strip() for n in name.split("|"))


def problems(env: Mapping[str, str]) -> list[str]:
    """Every half-configured system and malformed value in ``env``, in plain words."""
    found: list[str] = []
    for given, needed, system in PAIRS:
        if all(_set(env, g) for g in given):
            for need in needed:
                if not _set(env, need):
                    names = " or ".join(need.split("|"))
                    found.append(f"{system}: {given[0]} is set but {names} is not")
    for name in ("REDSHIFT_SSL", "ECM_MCP_ALLOW_WRITES"):
        value = env.get(name, "").strip()
        if value and value.lower() not in BOOLEANS:
            found.append(f"{name}={value!r} is not true or false")
    for name, (low, high) in NUMBERS.items():
        value = env.get(name, "").strip()
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            found.append(f"{name}={value!r} is not a number ({low}-{high})")
            continue
        if not low <= number <= high:
            found.append(f"{name}={value} is outside {low}-{high}")
    for name, choices in CHOICES.items():
        value = env.get(name, "").strip()
        if value and value.lower() not in choices:
            found.append(f"{name}={value!r} is not {' or '.join(choices)}")
    for name, schemes in URLS.items():
        value = env.get(name, "").strip()
        if value:
            parts = urlsplit(value)
            if parts.scheme not in schemes or not parts.hostname:
                found.append(f"{name} must be a {'/'.join(schemes)}:// URL with a host")
    key = env.get("PAGERDUTY_ROUTING_KEY", "").strip()
    if key and not ROUTING_KEY.fullmatch(key):
        found.append(
            f"PAGERDUTY_ROUTING_KEY is {len(key)} characters long; an Events API v2 "
            "integration key is 32 lowercase letters and digits (the service's Integrations tab)"
        )
    return found
