"""``ecm-bot doctor``."""

from __future__ import annotations

import sys

import click

from bot.cli import cli
from bot.cli.output import emit_json, table
from bot.doctor import FAILING, run_checks

MARK = {"ok": "✅", "embedded": "🟦", "missing": "⚪", "failing": "❌", "warning": "⚠️"}


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def doctor(as_json: bool) -> None:
    """Check the settings (half-configured systems, malformed values), Slack (auth.test), the
    database, the warehouse (connect, SELECT 1), the sheet (open, headers) and its sync lag,
    the LLM keys, and each configured model (known to the SDK, not retired or retiring within
    60 days, served by the provider when its key is set); print what is OK, missing, a
    warning or failing, with the fix. Exit 1 on a failure.

    Example: ecm-bot doctor
    """
    checks = run_checks()
    if as_json:
        emit_json([c.__dict__ for c in checks])
    else:
        click.echo(
            table(
                [[f"{MARK[c.status]} {c.system}", c.status, c.detail] for c in checks],
                ["system", "status", "detail"],
            )
        )
        fixes = [f"• {c.system}: {c.fix}" for c in checks if c.fix and c.status != "ok"]
        if fixes:
            click.echo("\nTo fix or enable:\n" + "\n".join(fixes))
    if any(c.status == FAILING for c in checks):
        sys.exit(1)
