"""``ecm-bot sla-watch``: one pass of the SLA watch (warnings, reminders, escalations)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import click

from bot.cli import cli
from bot.cli.output import emit_json
from bot.clock import now
from bot.paths import CONFIG_DIR
from bot.resources import load_yaml
from bot.sla.policy import load_policy
from bot.sla.watch import Notice, Notifier, PassReport, newest, run_pass
from bot.stores.factory import Stores, open_stores

log = logging.getLogger(__name__)


def slack_notifier(env: Mapping[str, str] = os.environ) -> Notifier | None:
    """The Slack notifier when SLACK_BOT_TOKEN is set, else None."""
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env(env)
    if not settings.bot_token:
        return None
    from bot.slack.app import web_client
    from bot.slack.notices import SlackNotifier

    return SlackNotifier(web_client(settings), settings.escalation_channel)


def woken_updates(env: Mapping[str, str] = os.environ) -> Callable[[list[str]], None] | None:
    """When SLACK_BOT_TOKEN is set, what redraws woken tickets' Slack messages and their
    owners' App Home (``bot.slack.outside_updates``), else None."""
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env(env)
    if not settings.bot_token:
        return None
    from bot.slack.outside_updates import OutsideUpdates

    return OutsideUpdates.from_settings(settings).woken


def sla_pass(
    stores: Stores,
    notifier: Notifier | None,
    moment: datetime | None = None,
    on_woken: Callable[[list[str]], None] | None = None,
) -> PassReport:
    """One pass (now, by default) with the shipped policy and stuck reasons: first the
    snoozed tickets whose time is up come back (``bot/sla/wake.py``; once committed, their
    order ids go to ``on_woken``, which redraws their Slack messages), then the notices,
    then the end-of-shift digests (``bot/sla/digest.py``)."""
    from bot.sla.digest import digest_pass
    from bot.sla.wake import wake_pass

    reasons = load_yaml(CONFIG_DIR / "stuck-reasons.yaml")["reasons"]
    moment = moment or now()
    woken = wake_pass(stores, moment, notifier).woken
    if woken and on_woken:
        try:
            on_woken(list(woken))
        except Exception:  # the tickets are back; only their redraw is lost
            log.exception("follow-ups of woken snoozes failed")
    report = run_pass(stores, reasons, load_policy(), moment, notifier)
    report.woken = woken
    report.extra = digest_pass(stores, moment, notifier).line()
    return report


def sla_every(env: Mapping[str, str] = os.environ) -> timedelta:
    """How often the scheduler runs the watch: ECM_SLA_WATCH_SECONDS, default 300."""
    try:
        seconds = int(env.get("ECM_SLA_WATCH_SECONDS") or 300)
    except ValueError:
        seconds = 300
    return timedelta(seconds=min(max(seconds, 30), 3600))


@cli.command("sla-watch")
@click.option("--once", is_flag=True, required=True, help="Run one pass and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print what was sent as JSON.")
def sla_watch(once: bool, as_json: bool) -> None:
    """Warn assignees before their tickets' SLA deadlines, remind about breached P1/P2 tickets
    that have not moved, then escalate them (shared/config/sla-policy.yaml). First, snoozed
    tickets whose time is up come back to their owner with a DM; last, each agent whose shift
    just ended gets a DM of what is still open with them. Each notice and digest is sent
    once, also with several replicas; `ecm-bot scheduler` runs a pass every 5 minutes.
    Without Slack nothing is sent: it lists, per ticket, the notice a pass would send, and
    the warnings held until their owner's shift.

    Example: ecm-bot sla-watch --once
    """
    report = sla_pass(open_stores(), slack_notifier(), on_woken=woken_updates())
    if as_json:
        notices = report.sent if report.unsent is None else report.unsent
        emit_json(
            {
                "due": report.due,
                "sent": report.unsent is None,
                "failed": report.failed,
                "woken": report.woken or [],
                "notices": [n.__dict__ for n in notices or []],
                "held": [n.__dict__ for n in report.held or []],
            }
        )
        return
    click.echo(report.line())
    if report.unsent is not None:  # the dry run: what a pass would send, held ones marked
        for n in sorted(newest(report.unsent) + newest(report.held or []), key=_order):
            mark = "  (held: off shift)" if n.held else ""
            click.echo(f"  {n.kind:<11} {n.order_id}  {n.agent}{mark}")


def _order(n: Notice) -> tuple:
    return (n.held, n.kind, n.order_id)
