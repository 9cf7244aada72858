"""What an operator can get wrong in the environment, found before the bot silently runs on
embedded data: half-configured systems (a variable without its partner) and malformed values.
Each problem names the variable and says what it should be. Used by ``ecm-bot doctor``."""

from __future__ import annotations

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
)
NUMBERS = {  # variable: (lowest, highest)
    "ECM_LLM_TIMEOUT": (1, 600),
    "ECM_SHEETS_SYNC_SECONDS": (5, 3600),
    "ECM_KEEP_EXECUTIONS_DAYS": (1, 3650),
    "ECM_DATABASE_POOL_SIZE": (1, 100),
    "ECM_HEALTH_PORT": (1, 65535),
    "PORT": (1, 65535),
    "REDSHIFT_PORT": (1, 65535),
}
URLS = {
    "ECM_DATABASE_URL": ("postgresql", "postgres"),
    "REDSHIFT_URL": ("redshift", "postgresql", "postgres"),
    "SLACK_API_URL": ("https", "http"),
    "ECM_SHEETS_API_URL": ("https", "http"),
    "ANTHROPIC_BASE_URL": ("https", "http"),
    "OPENAI_BASE_URL": ("https", "http"),
}


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
    for name in ("REDSHIFT_SSL",):
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
    for name, schemes in URLS.items():
        value = env.get(name, "").strip()
        if value:
            parts = urlsplit(value)
            if parts.scheme not in schemes or not parts.hostname:
                found.append(f"{name} must be a {'/'.join(schemes)}:// URL with a host")
    return found
