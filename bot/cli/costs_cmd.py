"""``ecm-bot costs``: language-model spend per skill, per day and per month, against budgets."""

from __future__ import annotations

from collections import defaultdict

import click

from bot.cli import cli
from bot.cli.output import emit_json, table
from bot.clock import now, ts
from bot.skills.registry import Registry
from bot.stores.factory import open_stores


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def costs(as_json: bool) -> None:
    """Model spend per skill today and this month against each skill's monthly_limit and
    max_per_execution, plus spend per day.

    Example: ecm-bot costs
    """
    registry = Registry.load()
    rows = open_stores().state.executions()
    today, month = ts(now())[:10], ts(now())[:7]
    per_skill: dict[str, dict] = defaultdict(
        lambda: {"today": 0.0, "month": 0.0, "runs": 0, "max_run": 0.0, "tokens": 0}
    )
    per_day: dict[str, float] = defaultdict(float)
    for r in rows:
        spend = float(r.get("cost") or 0)
        if not spend and not r.get("tokens_in"):
            continue
        s = per_skill[r["skill"]]
        s["runs"] += 1
        s["tokens"] += int(r.get("tokens_in") or 0) + int(r.get("tokens_out") or 0)
        s["max_run"] = max(s["max_run"], spend)
        s["today"] += spend if r["started_at"].startswith(today) else 0
        s["month"] += spend if r["started_at"].startswith(month) else 0
        per_day[r["started_at"][:10]] += spend
    out = []
    for skill in registry:
        b = skill.config.model.cost_budget
        s = per_skill.get(
            skill.name, {"today": 0.0, "month": 0.0, "runs": 0, "max_run": 0.0, "tokens": 0}
        )
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
        emit_json({"skills": out, "per_day": dict(sorted(per_day.items()))})
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
