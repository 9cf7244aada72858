"""``ecm-bot costs``: language-model spend per skill, per day and per month, against budgets.
The sums come from the database (``bot.stores.reports``), including the daily roll-ups of
executions already pruned."""

from __future__ import annotations

import click

from bot.cli import cli
from bot.cli.output import emit_json, table
from bot.skills.registry import Registry
from bot.stores.factory import open_stores
from bot.stores.reports import Reports, Spend


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def costs(as_json: bool) -> None:
    """Model spend per skill today and this month against each skill's monthly_limit and
    max_per_execution, plus spend per day.

    Example: ecm-bot costs
    """
    registry = Registry.load()
    spent = Reports(open_stores().db).costs()
    per_skill = {k: v.as_dict() for k, v in spent.per_skill.items()}
    per_day = spent.per_day
    out = []
    for skill in registry:
        b = skill.config.model.cost_budget
        s = per_skill.get(skill.name) or Spend().as_dict()
        out.append(
            {
                "skill": skill.name,
                **s,
                "monthly_limit": b.monthly_limit,
                "per_run_limit": b.max_per_execution,
            }
        )
    if "agent-router" in per_skill:
        out.append(
            {
                "skill": "agent-router",
                **per_skill["agent-router"],
                "monthly_limit": None,
                "per_run_limit": None,
            }
        )
    if as_json:
        emit_json({"skills": out, "per_day": per_day})
        return
    click.echo(
        table(
            [
                [
                    o["skill"],
                    o["runs"],
                    f"${o['today']:.4f}",
                    f"${o['month']:.4f}",
                    "-" if o["monthly_limit"] is None else f"${o['monthly_limit']:.2f}",
                    "-"
                    if o["monthly_limit"] is None
                    else f"{100 * o['month'] / o['monthly_limit']:.1f}%",
                    f"${o['max_run']:.4f}",
                    "-" if o["per_run_limit"] is None else f"${o['per_run_limit']:.2f}",
                ]
                for o in out
            ],
            [
                "skill",
                "model runs",
                "today",
                "this month",
                "monthly limit",
                "used",
                "max run",
                "per-run limit",
            ],
        )
    )
    if per_day:
        click.echo("\nPer day: " + ", ".join(f"{d} ${v:.4f}" for d, v in sorted(per_day.items())))
    else:
        click.echo("\nNo model spend recorded (no LLM key configured, or no free-text requests).")
