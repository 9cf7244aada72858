"""``ecm-bot sheets``: set up, check and sync the Google Sheet view, or export the tabs as CSV."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bot.cli import cli
from bot.errors import NotConfigured

NOT_CONFIGURED = (
    "Google Sheets is not configured: set GOOGLE_SHEETS_CREDENTIALS (a service-account JSON "
    "file path or its content) and ECM_SPREADSHEET_ID, and share the sheet with the service "
    "account's email."
)


def _workbook(check: bool = True):
    from bot.stores.sheets_workbook import SheetsWorkbook

    workbook = SheetsWorkbook.from_env(check=check)
    if workbook is None:
        raise NotConfigured(NOT_CONFIGURED)
    return workbook


@cli.group()
def sheets() -> None:
    """Set up and check the team's Google Sheet.

    Example: ecm-bot sheets init
    """


@sheets.command("init")
def init() -> None:
    """Create any missing tab (Agents, Assignments, Resolutions, Escalations, and
    Assignments_canary, which the sync also creates when it has a canary plan to mirror) with
    its headers.

    Example: ecm-bot sheets init
    """
    from bot.stores.sheets_workbook import SHEET_TABS

    created = _workbook(check=False).init_tabs(SHEET_TABS)
    for line in created:
        click.echo(f"Created {line}")
    if not created:
        click.echo("All tabs and headers exist.")


@sheets.command("check")
def check() -> None:
    """Check that every tab and header exists; exit 1 naming what is missing.

    Example: ecm-bot sheets check
    """
    _workbook(check=False).check_headers()
    click.echo("OK: every tab and header is present.")


def _notifier():
    """DM the managers on Slack when it is configured, else log the notice."""
    import logging

    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env()
    if not settings.bot_token:
        return lambda text: logging.getLogger("bot.sync").warning("%s", text)
    from bot.runtime.roster import Roster
    from bot.slack.app import web_client
    from bot.slack.posting import manager_notifier
    from bot.stores.factory import open_stores

    return manager_notifier(web_client(settings), lambda: Roster.load(open_stores().workbook))


def _slack_updates():
    """When Slack is configured, what edits the Slack messages of tickets a sheet edit changed
    (``bot.slack.outside_updates``), else None."""
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env()
    if not settings.bot_token:
        return None
    from bot.slack.outside_updates import OutsideUpdates

    return OutsideUpdates.from_settings(settings).sheet_edits


@sheets.command("sync")
@click.option("--once", is_flag=True, help="Run one cycle and exit.")
@click.option(
    "--every",
    type=click.IntRange(5, 3600),
    default=lambda: int(os.environ.get("ECM_SHEETS_SYNC_SECONDS", "30")),
    show_default="$ECM_SHEETS_SYNC_SECONDS or 30",
    help="Seconds between cycles.",
)
def sync(once: bool, every: int) -> None:
    """Keep the Google Sheet in step with the bot's database, both ways: push the bot's
    changes, pull people's edits (checked like the bot's own actions; a rejected edit is put
    back and the managers are told). With Slack configured, the messages showing a ticket an
    edit changed are edited in place and a moved ticket's owners get a DM. One cycle runs at
    a time across replicas.

    Example: ecm-bot sheets sync --every 30
    """
    import time

    from bot.cli.common import service_logging
    from bot.stores.factory import open_stores
    from bot.stores.sheets_grid import SheetsGrid
    from bot.sync.sheets_sync import SheetSync

    service_logging()
    grid = SheetsGrid.from_env()
    if grid is None:
        raise NotConfigured(NOT_CONFIGURED)
    job = SheetSync(
        open_stores(),
        grid,
        lease_seconds=max(60, every * 4),
        notify=_notifier(),
        on_changed=_slack_updates(),
    )
    if not once:
        from bot.health import serve_health_from_env

        serve_health_from_env()
    while True:
        report = job.run_once()
        line = (
            f"sheet sync: {report.skipped}"
            if report.skipped
            else f"sheet sync: {len(report.pulled)} edit(s) pulled, {len(report.rejected)} "
            f"put back, {len(report.conflicts)} conflict(s), {report.pushed} row(s) written, "
            f"{report.requests} request(s)"
        )
        click.echo(line, err=True)
        if once:
            if report.skipped and report.skipped != "another replica is syncing":
                raise SystemExit(1)
            return
        time.sleep(every)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# the full-width forms (＝ ＋ － ＠) count too: some spreadsheets read them as the ASCII ones


def neutralise(value: object) -> str:
    """A cell as safe CSV text: one that a spreadsheet would run as a formula (it begins,
    after any spaces, with =, +, -, @ or their full-width forms, or with a tab or a line
    break) gets a leading apostrophe, so it opens as text. NUL, which no CSV reader takes,
    is dropped."""
    text = "" if value is None else str(value).replace("\x00", "")
    return "'" + text if text.lstrip(" ").startswith(FORMULA_START) else text


@sheets.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export(directory: Path) -> None:
    """Write each tab (Agents, Assignments, Resolutions, Escalations) from the bot's database
    as DIRECTORY/<Tab>.csv, with formula-like cells neutralised. No Google Sheet needed.

    Example: ecm-bot sheets export ./ecm-export
    """
    import csv

    from bot.stores.factory import open_stores
    from bot.stores.workbook import TAB_COLUMNS

    workbook = open_stores().workbook
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.UsageError(f"cannot create {directory}: {exc.strerror}") from None
    for tab, headers in TAB_COLUMNS.items():
        rows = workbook.read(tab)
        path = directory / f"{tab}.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(headers)
            writer.writerows([neutralise(r.get(h)) for h in headers] for r in rows)
        click.echo(f"{path}: {len(rows)} row(s)")
