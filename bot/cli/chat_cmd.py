"""``ecm-bot chat``: talk to the bot as a roster member, through the same path Slack uses."""

from __future__ import annotations

import click

from bot.cli import cli
from bot.cli.common import load, show
from bot.runtime.dispatch import handle_message


@cli.command()
@click.option("--as", "as_email", required=True, metavar="EMAIL", help="Roster member's email.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.argument("text")
def chat(as_email: str, text: str, as_json: bool) -> None:
    """Send TEXT to the bot as a roster member: role resolution, trigger matching, the role's
    agent, the skill and the rendered reply.

    Examples:

      ecm-bot chat --as sarah.ops@example.com "my tickets"

      ecm-bot chat --as maya.manager@example.com "run triage"
    """
    registry, stores = load()
    reply = handle_message(registry, stores, as_email, text, trigger="chat")
    if reply.result is None:
        click.echo(reply.help_text)
    else:
        show(reply.result, as_json)
