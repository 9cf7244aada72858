"""``ecm-bot scheduler``: the clock process that runs the manager skills' cron triggers."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import click

from bot.cli import cli
from bot.present import result_text
from bot.runtime.roster import Roster
from bot.scheduling.runner import Scheduler
from bot.skills.registry import Registry
from bot.stores.factory import open_stores


def _publisher():
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env()
    if settings.bot_token and settings.triage_channel:
        from bot.slack.app import web_client
        from bot.slack.posting import channel_publisher
        from bot.stores.slack_messages import SlackMessages

        return channel_publisher(
            web_client(settings),
            settings.triage_channel,
            lambda: Roster.load(open_stores().workbook),
            lambda: SlackMessages(open_stores().db),
            escalation_channel=settings.escalation_channel,
        ), (f"Slack channel {settings.triage_channel}")
    return (lambda result: click.echo(result_text(result))), "standard output"


@cli.command()
@click.option("--once", is_flag=True, help="Run what is due now (catch-up included) and exit.")
@click.option(
    "--grace-minutes",
    default=30,
    show_default=True,
    type=click.IntRange(0, 720),
    help="A slot missed while the process was down still runs within this window.",
)
@click.option(
    "--keep-days",
    type=click.IntRange(1, 3650),
    default=lambda: int(os.environ.get("ECM_KEEP_EXECUTIONS_DAYS", "90")),
    show_default="$ECM_KEEP_EXECUTIONS_DAYS or 90",
    help="Executions older than this are rolled into daily totals and pruned (hourly).",
)
def scheduler(once: bool, grace_minutes: int, keep_days: int) -> None:
    """Run the manager skills' cron triggers (triage at 07:00, 14:00 and 20:00 Asia/Dubai),
    posting to ECM_TRIAGE_CHANNEL when Slack is configured. Each slot runs at most once, even
    across restarts and replicas; a slot that meets a running triage is retried within the
    grace window. Once an hour it prunes old state. After every tick, and at least every
    ECM_ALERT_CHECK_SECONDS (60), it runs the alert pass (see `ecm-bot alerts check`), and
    every ECM_SLA_WATCH_SECONDS (300) the SLA watch (see `ecm-bot sla-watch`).

    Example: ecm-bot scheduler
    """
    from bot.cli.alerts_cmd import alert_engine, check_every
    from bot.cli.common import service_logging
    from bot.cli.sla_cmd import sla_every, sla_pass, slack_notifier, woken_updates

    service_logging()
    publish, where = _publisher()
    registry, grace = Registry.load(), timedelta(minutes=grace_minutes)
    engine = alert_engine(registry, open_stores, grace)

    notifier, watch_every, on_woken = slack_notifier(), sla_every(), woken_updates()
    watched: list[datetime] = []  # when the SLA watch last ran

    def check_alerts(moment):
        report = engine.check(moment)
        if report.opened or report.resolved or report.sent or report.kept or report.rejected:
            click.echo(report.line(), err=True)
        if not watched or moment - watched[-1] >= watch_every:  # the SLA watch, every 5 min
            watched[:] = [moment]
            click.echo(sla_pass(open_stores(), notifier, moment, on_woken).line(), err=True)

    sched = Scheduler(
        registry,
        open_stores,
        publish,
        grace,
        keep_days=keep_days,
        check=check_alerts,
        check_every=check_every(),
    )
    jobs = ", ".join(f"{j.skill} '{j.schedule}' {j.timezone}" for j in sched.jobs)
    click.echo(f"Scheduling {jobs}; publishing to {where}.", err=True)
    if not once:
        from bot.health import serve_health_from_env

        serve_health_from_env()
    if once:
        ran = sched.tick()
        click.echo(f"Ran: {', '.join(ran) or 'nothing due'}", err=True)
        return
    sched.run_forever()
