"""``ecm-bot chat``: talk to the bot as a roster member, through the same path Slack uses."""

from __future__ import annotations

import click

from bot.cli import cli
from bot.cli.common import assistant, load, show
from bot.cli.output import emit_json, terminal_safe
from bot.runtime.dispatch import confirm, handle_message


@cli.command()
@click.option("--as", "as_email", required=True, metavar="EMAIL", help="Roster member's email.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--yes", "answer", flag_value="yes", help="Confirm a proposed write without asking.")
@click.option("--no", "answer", flag_value="no", help="Decline a proposed write without asking.")
@click.argument("text")
def chat(as_email: str, text: str, as_json: bool, answer: str | None) -> None:
    """Send TEXT to the bot as a roster member: role resolution, trigger matching, the role's
    agent, the skill and the rendered reply.

    Examples:

      ecm-bot chat --as sarah.ops@example.com "my tickets"

      ecm-bot chat --as maya.manager@example.com "run triage"

    With ANTHROPIC_API_KEY or OPENAI_API_KEY set, free text ("what should I work on first?")
    is understood too; a write it implies (resolve, escalate, assign) is proposed and only
    happens after you confirm.
    """
    registry, stores = load()
    helper = assistant()
    reply = handle_message(registry, stores, as_email, text, trigger="chat", assistant=helper)
    if reply.proposal is not None:
        if as_json and answer is None:
            emit_json({"proposal": reply.proposal})
            return
        click.echo(terminal_safe(f"Proposed: {reply.proposal['summary']}"))
        go = answer == "yes" or (answer is None and click.confirm("Do it?", default=False))
        if not go:
            click.echo("Not done.")
            return
        reply = confirm(registry, stores, reply.caller, reply.proposal["id"], assistant=helper)
    if reply.result is None:
        click.echo(terminal_safe(reply.help_text))
    else:
        show(reply.result, as_json)
