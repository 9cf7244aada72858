"""``ecm-bot sheets``: set up and check the Google Sheet the team coordinates in."""

from __future__ import annotations

import click

from bot.cli import cli
from bot.errors import NotConfigured


def _workbook(check: bool = True):
    from bot.stores.sheets_workbook import SheetsWorkbook

    workbook = SheetsWorkbook.from_env(check=check)
    if workbook is None:
        raise NotConfigured(
            "Google Sheets is not configured: set GOOGLE_SHEETS_CREDENTIALS (a service-account "
            "JSON file path or its content) and ECM_SPREADSHEET_ID, and share the sheet with the "
            "service account's email."
        )
    return workbook


@cli.group()
def sheets() -> None:
    """Set up and check the team's Google Sheet.

    Example: ecm-bot sheets init
    """


@sheets.command("init")
def init() -> None:
    """Create any missing tab (Agents, Assignments, Resolutions, Escalations) with its headers.

    Example: ecm-bot sheets init
    """
    created = _workbook(check=False).init_tabs()
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
