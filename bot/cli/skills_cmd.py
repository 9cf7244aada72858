"""``ecm-bot skills``: list, search and validate the skill registry."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from bot.cli import cli
from bot.cli.output import emit_json, table
from bot.errors import EcmError
from bot.paths import SKILLS_DIR
from bot.resources import check_resources
from bot.skills.registry import Registry


def _trigger_text(skill) -> str:
    out = []
    for t in skill.config.triggers:
        if t.cron:
            out.append(f"cron '{t.cron.schedule}' {t.cron.timezone}")
        else:
            pats = (t.command or t.message).patterns
            out.append(f"{t.kind}: " + " | ".join(f'"{p}"' for p in pats))
    return "; ".join(out)


def model_warnings(reg: Registry) -> list[str]:
    """A line per skill and configured model that is unknown to the installed SDK, retired,
    retiring within 60 days or otherwise flagged by the lifecycle catalog (warnings only: a
    release must not fail because a provider moved; ``ecm-bot doctor`` fails on them)."""
    from bot.clock import now
    from bot.model_health import check_models

    lines = []
    for report in check_models(reg, now().date()):
        for finding in report.findings:
            for skill in report.skills:
                lines.append(
                    f"warning: {skill}: model.{report.slot} {report.model}: {finding.message}"
                )
    return lines


@cli.group()
def skills() -> None:
    """Inspect the skills registry.

    Example: ecm-bot skills list --role field
    """


@skills.command("list")
@click.option("--role", type=click.Choice(["manager", "field"]), help="Only this role.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_skills(role: str | None, as_json: bool) -> None:
    """Print every skill: role, name, version and triggers.

    Example: ecm-bot skills list
    """
    reg = Registry.load()
    items = [s for s in reg if role is None or s.role == role]
    if as_json:
        emit_json(
            [
                {
                    "role": s.role,
                    "name": s.name,
                    "version": s.version,
                    "triggers": [t.model_dump(exclude_none=True) for t in s.config.triggers],
                }
                for s in items
            ]
        )
        return
    click.echo(
        table(
            [[s.role, s.name, s.version, _trigger_text(s)] for s in items],
            ["role", "name", "version", "triggers"],
        )
    )


@skills.command("search")
@click.argument("text")
@click.option("--role", type=click.Choice(["manager", "field"]), help="Only this role.")
def search_skills(text: str, role: str | None) -> None:
    """Rank skills by how well TEXT matches their name, triggers and description.

    Example: ecm-bot skills search "resolve a ticket"
    """
    found = Registry.load().search(text, role=role)
    if not found:
        click.echo("No skill matches.")
    for s in found:
        click.echo(f"{s.role}/{s.name}: {s.description}")


@skills.command("validate")
@click.option(
    "--skills-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=SKILLS_DIR,
    show_default="the project's skills/",
    help="Validate the skill folders here instead (e.g. a change before it ships).",
)
def validate_skills(skills_dir: Path) -> None:
    """Validate every skill folder, entry point and shared resource; exit 1 on any problem.
    A configured model that is unknown to the installed SDK, retired or retiring within 60
    days (shared/config/model-lifecycle.yaml) is a warning naming the skill, not a failure.

    Example: ecm-bot skills validate --skills-dir ./skills
    """
    problems: list[str] = []
    try:
        reg = Registry.load(skills_dir)
    except EcmError as exc:
        raise click.ClickException(str(exc)) from None
    for skill in reg:
        module, func = skill.config.runtime.entry_point.split(":")
        try:
            if not callable(getattr(importlib.import_module(module), func, None)):
                problems.append(
                    f"{skill.folder}/aspora.config.yaml: field 'runtime.entry_point': "
                    f"{module} has no function {func}"
                )
        except ImportError as exc:
            problems.append(
                f"{skill.folder}/aspora.config.yaml: field 'runtime.entry_point': "
                f"cannot import {module} ({exc})"
            )
    problems += check_resources(reg)
    try:
        warnings = model_warnings(reg)
    except EcmError as exc:  # the model catalog itself is invalid: that is a problem
        warnings = []
        problems.append(str(exc))
    for w in warnings:
        click.secho(w, fg="yellow", err=True)
    for p in problems:
        click.secho(p, fg="red", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo(f"OK: {len(reg)} skills and the shared resources are valid.")
