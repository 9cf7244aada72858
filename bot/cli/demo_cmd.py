"""``ecm-bot demo``: the whole flow on the embedded default, printed as Slack would show it."""

from __future__ import annotations

import click

from bot.cli import cli
from bot.cli.common import assistant, load, show
from bot.demo.seed import seed_demo
from bot.paths import data_dir
from bot.present import present_result, result_text
from bot.present.model import View
from bot.present.text import to_text
from bot.runtime.dispatch import handle_message

MANAGER = "maya.manager@example.com"
AGENT = "sarah.ops@example.com"


def _section(title: str) -> None:
    click.echo()
    click.secho(f"━━ {title} " + "━" * max(0, 70 - len(title)), bold=True)


@cli.command()
def demo() -> None:
    """Seed the demo data if absent, run triage, and show what Slack would: the summary, each
    agent's thread, one field agent's queue and one order's details.

    Example: ecm-bot demo
    """
    registry, stores = load()
    helper = assistant()
    if not stores.workbook.read("Agents") or not (data_dir() / "warehouse.db").exists():
        click.echo("Seeding demo data (200 stuck orders)…", err=True)
        seed_demo(data_dir(), stores.workbook)
    _section(f"{MANAGER} in #ecm-ops: @ecm-manager triage")
    triage = handle_message(
        registry, stores, MANAGER, "@ecm-manager triage", assistant=helper
    ).result
    assert triage is not None  # each demo message runs a skill
    view = present_result(triage)
    click.echo(to_text(View(view.elements)))
    for thread in view.threads:
        _section("thread reply: " + thread.summary().split(" — ")[0])
        click.echo(to_text(thread))
    _section(f"{AGENT} in a DM: my tickets")
    queue = handle_message(registry, stores, AGENT, "my tickets").result
    assert queue is not None
    click.echo(result_text(queue))
    tickets = queue.data.get("tickets") or []
    if tickets:
        oid = tickets[0]["order_id"]
        _section(f"{AGENT} in a DM: order {oid}")
        detail = handle_message(registry, stores, AGENT, f"order {oid}", assistant=helper).result
        assert detail is not None
        show(detail, as_json=False)
    _section("go further")
    click.echo(
        "Data lives in " + str(data_dir()) + ". Try:\n"
        f'  ecm-bot chat --as {AGENT} "resolve <ORDER_ID> replayed webhook, LULU confirmed"\n'
        f'  ecm-bot chat --as {MANAGER} "dashboard"      ecm-bot patterns\n'
        "  ecm-bot trace      ecm-bot metrics      ecm-bot skills list      ecm-bot --help"
    )
