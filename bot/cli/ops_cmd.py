"""Operational commands: seed-demo, triage, dashboard, patterns, assign."""

from __future__ import annotations

import click

from bot.cli import cli
from bot.cli.common import assistant, load, operator, show
from bot.cli.output import emit_json
from bot.demo.seed import seed_demo
from bot.paths import data_dir
from bot.runtime.executor import execute
from bot.stores.factory import open_stores

AS_OPTION = click.option(
    "--as",
    "as_email",
    metavar="EMAIL",
    help="Act as this roster member (default: the CLI operator, a manager).",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@cli.command("seed-demo")
@click.option(
    "--orders",
    default=200,
    show_default=True,
    type=click.IntRange(1, 200_000),
    help="How many stuck orders.",
)
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed.")
@JSON_OPTION
def seed_demo_cmd(orders: int, seed: int, as_json: bool) -> None:
    """Write the demo roster and warehouse, relative to now (idempotent).

    Example: ecm-bot seed-demo --orders 200 --seed 7
    """
    stores = open_stores()
    click.echo(f"Seeding {orders} stuck orders…", err=True)
    counts = seed_demo(data_dir(), stores.workbook, orders=orders, seed=seed)
    if as_json:
        emit_json(counts)
    else:
        click.echo(
            f"Seeded {counts['stuck_orders']} stuck orders ({counts['reasons']} reasons), "
            f"{counts['cleared_orders']} past episodes and {counts['agents']} roster "
            f"members in {data_dir()}."
        )


@cli.command()
@click.option("--dry-run", is_flag=True, help="Score and plan, but write nothing.")
@AS_OPTION
@JSON_OPTION
def triage(dry_run: bool, as_email: str | None, as_json: bool) -> None:
    """Score every stuck order and assign it to a field agent. The text lists the top
    unassigned and escalated orders with their counts; --json lists them all.

    Example: ecm-bot triage --dry-run
    """
    registry, stores = load()
    click.echo("Triaging…", err=True)
    result = execute(
        registry,
        stores,
        registry.for_cli("triage").name,
        operator(stores, as_email),
        {"dry_run": dry_run, "full_lists": as_json},
        trigger="cli",
        assistant=assistant(),
    )
    show(result, as_json)
    counts = result.data.get("counts") or {}
    listed = len(result.data.get("unassigned") or [])
    if not as_json and counts.get("unassigned", 0) > listed:
        click.echo(
            f"{counts['unassigned']} orders are unassigned; `ecm-bot triage --json` lists "
            "them all.",
            err=True,
        )


@cli.command()
@AS_OPTION
@JSON_OPTION
def dashboard(as_email: str | None, as_json: bool) -> None:
    """The ECM dashboard (run-ecm): open tickets, SLA breaches, resolved today.

    Example: ecm-bot dashboard
    """
    registry, stores = load()
    skill = registry.for_cli("dashboard").name
    show(execute(registry, stores, skill, operator(stores, as_email), trigger="cli"), as_json)


@cli.command()
@AS_OPTION
@JSON_OPTION
def patterns(as_email: str | None, as_json: bool) -> None:
    """Anomalies: reasons, corridors and partners stuck far above their baseline.

    Example: ecm-bot patterns --json
    """
    registry, stores = load()
    show(
        execute(
            registry,
            stores,
            registry.for_cli("patterns").name,
            operator(stores, as_email),
            trigger="cli",
            assistant=assistant(),
        ),
        as_json,
    )
