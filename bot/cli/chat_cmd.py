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
        if reply.result.data.get("dms"):  # what Slack's follow-up would send (away)
            direct(reply.result.data["dms"], reply.caller.email, quiet=as_json)
        if reply.result.data.get("refused") is True:  # nothing changed: a refusal
            raise SystemExit(1)


def direct(dms: list[dict], caller: str, quiet: bool) -> None:
    """Send a result's DMs over Slack when SLACK_BOT_TOKEN is set; else say who was not told."""
    from bot.cli.sla_cmd import slack_notifier
    from bot.sla.away_flow import send_dms

    notifier = slack_notifier()
    others = [dm["email"] for dm in dms if dm["email"] != caller]
    missed = others if notifier is None else send_dms(dms, notifier, caller)
    if missed and not quiet:
        why = "Slack is not configured (set SLACK_BOT_TOKEN)" if notifier is None else "failed"
        click.echo(f"(DMs to {', '.join(missed)} not sent: {why}.)", err=True)
