"""``ecm-bot alerts``: what is alerting now and the history; ``ecm-bot alerts check``: one
alert pass (``bot.alerts.engine``). Also where the alert destinations are wired from the
environment (``alert_engine``), for this command and ``ecm-bot scheduler``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import timedelta

import click

from bot.alerts.channels import AlertChannel
from bot.alerts.engine import DEFAULT_WINDOW, AlertEngine
from bot.alerts.store import AlertStore
from bot.cli import cli
from bot.cli.output import emit_json, table
from bot.errors import NotConfigured
from bot.skills.registry import Registry
from bot.stores.factory import Stores, open_stores

GRACE_OPTION = click.option(
    "--grace-minutes",
    default=30,
    show_default=True,
    type=click.IntRange(0, 720),
    help="The scheduler's catch-up window: a cron slot not run by its time plus this alerts.",
)


def _number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise NotConfigured(f"{name}={raw!r} must be a whole number from {low} to {high}.")
    return value


def alert_channels(env: Mapping[str, str] = os.environ) -> dict[str, AlertChannel]:
    """The configured destinations: Slack (SLACK_BOT_TOKEN and ECM_ALERT_CHANNEL) and
    PagerDuty (PAGERDUTY_ROUTING_KEY, PAGERDUTY_EVENTS_URL)."""
    from bot.alerts.pagerduty import PagerDutyEvents
    from bot.slack.settings import SlackSettings

    channels: dict[str, AlertChannel] = {}
    settings = SlackSettings.from_env(env)
    if settings.bot_token and settings.alert_channel:
        from bot.slack.alerts import SlackAlerts
        from bot.slack.app import web_client

        channels["slack"] = SlackAlerts(web_client(settings), settings.alert_channel)
    pagerduty = PagerDutyEvents.from_env(env)
    if pagerduty is not None:
        channels["pagerduty"] = pagerduty
    return channels


def alert_engine(
    registry: Registry,
    stores: Callable[[], Stores],
    grace: timedelta,
    env: Mapping[str, str] = os.environ,
) -> AlertEngine:
    """The alert pass with its destinations and limits from the environment: the default
    window ECM_ALERT_WINDOW_MINUTES (60), the sheet-sync lag limit ECM_ALERT_SYNC_LAG_SECONDS
    (300; only when a Google Sheet is configured)."""
    minutes = _number(
        env, "ECM_ALERT_WINDOW_MINUTES", int(DEFAULT_WINDOW.total_seconds() // 60), 1, 10_080
    )
    sheet = bool(env.get("GOOGLE_SHEETS_CREDENTIALS") and env.get("ECM_SPREADSHEET_ID"))
    lag = _number(env, "ECM_ALERT_SYNC_LAG_SECONDS", 300, 30, 86_400)
    from bot.canary.watch import CanaryAlertEngine  # the canary pass runs first (bot/canary)

    return CanaryAlertEngine(
        registry,
        stores,
        alert_channels(env),
        window=timedelta(minutes=minutes),
        grace=grace,
        sync_lag_limit=timedelta(seconds=lag) if sheet else None,
        notify=_managers(stores, env),
    )


def _managers(stores: Callable[[], Stores], env: Mapping[str, str]):
    """DM the active managers (a canary rolled back or promoted) when Slack is configured."""
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env(env)
    if not settings.bot_token:
        return None
    from bot.runtime.roster import Roster
    from bot.slack.app import web_client
    from bot.slack.posting import manager_notifier

    return manager_notifier(web_client(settings), lambda: Roster.load(stores().workbook))


def check_every(env: Mapping[str, str] = os.environ) -> timedelta:
    """How often ``ecm-bot scheduler`` runs the alert pass (ECM_ALERT_CHECK_SECONDS, 60)."""
    return timedelta(seconds=_number(env, "ECM_ALERT_CHECK_SECONDS", 60, 10, 3600))


def _deliveries(store: AlertStore, alert: dict) -> str:
    parts = []
    for d in store.deliveries(alert["key"], alert["seq"]):
        if d.action != "trigger":
            continue
        state = d.status
        if d.status == "pending" and d.attempts:
            state += f" ({d.attempts} tries; {d.last_error})"
        elif d.status == "rejected":
            state += f" ({d.last_error})"
        parts.append(f"{d.channel} {state}")
    return ", ".join(parts) or "recorded only (no destination configured)"


@cli.group(invoke_without_command=True)
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="How many history entries to show.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def alerts(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The open alerts (each skill's monitoring thresholds, missed cron slots, sheet-sync
    lag), where each was delivered, and the history of openings, resolutions and sends.

    Example: ecm-bot alerts --limit 50
    """
    if ctx.invoked_subcommand is not None:
        return
    store = AlertStore(open_stores().db)
    open_now, history = store.open_alerts(), store.events(limit)
    if as_json:
        emit_json(
            {
                "open": [{**a, "deliveries": _deliveries(store, a)} for a in open_now],
                "history": history,
            }
        )
        return
    if not open_now:
        click.echo("No open alerts.")
    else:
        click.echo(f"Open alerts ({len(open_now)}):")
        for a in open_now:
            d = a["details"]
            click.echo(f"  {a['opened_at']}  [{a['severity']}] {a['summary']}")
            for label, key in (("figure", "figure"), ("last error", "last_error"), ("see", "see")):
                if d.get(key):
                    click.echo(f"      {label}: {d[key]}")
            click.echo(f"      delivered: {_deliveries(store, a)}")
    if history:
        total = store.count_events()
        click.echo(f"\nHistory (newest first, {len(history)} of {total}):")
        rows = [
            [
                e["at"],
                e["key"],
                e["event"] + (f" {e['channel']}" if e["channel"] else ""),
                e["summary"] or e["detail"] or "",
            ]
            for e in history
        ]
        click.echo(table(rows, ["at (UTC)", "alert", "event", "what"]))


@alerts.command("check")
@GRACE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(grace_minutes: int, as_json: bool) -> None:
    """Run one alert pass: evaluate every skill's thresholds over its window, the cron slots
    and the sheet-sync lag; open, update or resolve alerts; send what is pending to Slack
    (ECM_ALERT_CHANNEL) and PagerDuty (PAGERDUTY_ROUTING_KEY). Safe from many processes at
    once; a destination that is down is retried on the next pass.

    Example: ecm-bot alerts check
    """
    engine = alert_engine(Registry.load(), open_stores, timedelta(minutes=grace_minutes))
    report = engine.check()
    if as_json:
        emit_json(report.__dict__)
        return
    click.echo(report.line())
