"""``ecm-bot doctor``: check each configured system and say how to fix what fails."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import EcmError
from bot.paths import data_dir

OK, MISSING, FAILING, EMBEDDED = "ok", "missing", "failing", "embedded"


@dataclass(frozen=True)
class Check:
    system: str
    status: str
    detail: str
    fix: str = ""


def check_slack(env: Mapping[str, str]) -> Check:
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env(env)
    if not settings.bot_token:
        return Check(
            "slack",
            MISSING,
            "SLACK_BOT_TOKEN is not set",
            "Create the app from deploy/slack-manifest.yaml and set SLACK_BOT_TOKEN "
            "(plus SLACK_APP_TOKEN for Socket Mode or SLACK_SIGNING_SECRET for HTTP).",
        )
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import web_client

    try:
        auth = web_client(settings).auth_test()
    except SlackApiError as exc:
        return Check(
            "slack",
            FAILING,
            f"auth.test: {exc.response.get('error')}",
            "Check SLACK_BOT_TOKEN (reinstall the app to get a fresh xoxb- token).",
        )
    except Exception as exc:  # noqa: BLE001 - network errors of any kind are a finding here
        return Check(
            "slack",
            FAILING,
            f"auth.test failed: {exc}",
            f"Check network access to {settings.api_url} (or SLACK_API_URL).",
        )
    mode = (
        "Socket Mode"
        if settings.app_token
        else ("HTTP" if settings.signing_secret else "no SLACK_APP_TOKEN or SLACK_SIGNING_SECRET")
    )
    return Check("slack", OK, f"bot {auth.get('user_id')} in team {auth.get('team')} ({mode})")


def check_warehouse(env: Mapping[str, str]) -> Check:
    from bot.stores.factory import configured_warehouse

    try:
        warehouse = configured_warehouse(env)
        if warehouse is not None:
            warehouse.ping()
            return Check("warehouse", OK, "Redshift: connected and SELECT 1 answered")
    except EcmError as exc:
        return Check(
            "warehouse",
            FAILING,
            str(exc),
            "Check REDSHIFT_HOST/PORT/DATABASE/USER/PASSWORD (or REDSHIFT_URL) and "
            "that this host may reach the cluster.",
        )
    path = data_dir() / "warehouse.db"
    if not path.exists():
        return Check(
            "warehouse",
            MISSING,
            f"no Redshift configured and no demo data at {path}",
            "Set REDSHIFT_HOST (see .env.example), or run `ecm-bot seed-demo`.",
        )
    return Check("warehouse", EMBEDDED, f"embedded SQLite demo warehouse at {path}")


def check_sheet(env: Mapping[str, str]) -> Check:
    from bot.stores.factory import configured_sheet

    try:
        workbook = configured_sheet(env)
    except EcmError as exc:
        return Check(
            "sheet",
            FAILING,
            str(exc),
            "Share the sheet with the service account, then run `ecm-bot sheets init`.",
        )
    if workbook is None:
        return Check(
            "sheet",
            EMBEDDED,
            "no Google Sheet: the team's tabs live in the bot's database only",
            "Set GOOGLE_SHEETS_CREDENTIALS and ECM_SPREADSHEET_ID for a synced Google Sheet view.",
        )
    return Check("sheet", OK, "Google Sheet opened; every tab and header is present")


def check_llm(env: Mapping[str, str]) -> Check:
    keys = [k for k in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY") if env.get(k)]
    if not keys:
        return Check(
            "llm",
            MISSING,
            "no ANTHROPIC_API_KEY or OPENAI_API_KEY: agents run deterministically",
            "Set ANTHROPIC_API_KEY (and OPENAI_API_KEY as fallback).",
        )
    if len(keys) == 1:
        return Check(
            "llm",
            OK,
            f"{keys[0]} set (no fallback provider)",
            "Set the other provider's key for fallback.",
        )
    return Check("llm", OK, "Anthropic primary and OpenAI fallback keys set")


def run_checks(env: Mapping[str, str] = os.environ) -> list[Check]:
    return [check_slack(env), check_warehouse(env), check_sheet(env), check_llm(env)]
