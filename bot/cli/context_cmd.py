"""``ecm-bot context``: what an agent is given for one request, with token counts."""

from __future__ import annotations

import click

from bot.access.guard import Guard
from bot.briefing.builder import build_context, monolith_parts
from bot.cli import cli
from bot.cli.output import emit_json, table
from bot.skills.registry import Registry


@cli.command()
@click.option("--role", type=click.Choice(["manager", "field"]), required=True)
@click.option("--skill", "skill_name", required=True, help="The activated skill.")
@click.option("--reason", help="The order's stuck reason (e.g. LULU_NOT_CONFIRMED).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def context(role: str, skill_name: str, reason: str | None, as_json: bool) -> None:
    """Print the parts of an agent's context for one request, and their token counts,
    beside the "monolith" that would load every skill and resource.

    Example: ecm-bot context --role field --skill order-details --reason LULU_NOT_CONFIRMED
    """
    reg = Registry.load()
    skill = reg.get(skill_name)
    if skill.role != role:
        raise click.UsageError(
            f"'{skill_name}' is a {skill.role} skill; a {role} agent cannot activate it."
        )
    parts = build_context(reg, skill_name, Guard(skill, caller="cli"), reason=reason)
    total = sum(p.tokens for p in parts)
    mono = sum(p.tokens for p in monolith_parts(reg))
    if as_json:
        emit_json(
            {
                "parts": [{"label": p.label, "tokens": p.tokens} for p in parts],
                "total": total,
                "monolith": mono,
                "share": round(total / mono, 4),
            }
        )
        return
    click.echo(table([[p.label, p.tokens] for p in parts], ["part", "tokens (est.)"]))
    click.echo(
        f"\ntotal: {total} tokens · monolith: {mono} tokens · "
        f"{100 * total / mono:.1f}% of the monolith"
    )
