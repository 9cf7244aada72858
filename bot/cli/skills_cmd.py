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


SKILLS_DIR_OPTION = click.option(
    "--skills-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=SKILLS_DIR,
    show_default="the project's skills/",
    help="Read the skill folders here instead (e.g. a change before it ships).",
)


def _candidate_text(skill) -> str:
    """``1.1.0 (shadow)`` for a skill with a candidate version, else empty."""
    cand = skill.candidate
    return f"{cand.version} ({cand.config.canary.strategy})" if cand is not None else ""


@skills.command("list")
@click.option("--role", type=click.Choice(["manager", "field"]), help="Only this role.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@SKILLS_DIR_OPTION
def list_skills(role: str | None, as_json: bool, skills_dir: Path) -> None:
    """Print every skill: role, name, version, its candidate version (a canary/ folder) and
    triggers.

    Example: ecm-bot skills list
    """
    reg = Registry.load(skills_dir)
    items = [s for s in reg if role is None or s.role == role]
    if as_json:
        emit_json(
            [
                {
                    "role": s.role,
                    "name": s.name,
                    "version": s.version,
                    "candidate": (
                        {
                            "version": s.candidate.version,
                            "strategy": s.candidate.config.canary.strategy,
                            "folder": str(s.candidate.source),
                        }
                        if s.candidate is not None and s.candidate.config.canary
                        else None
                    ),
                    "triggers": [t.model_dump(exclude_none=True) for t in s.config.triggers],
                }
                for s in items
            ]
        )
        return
    click.echo(
        table(
            [[s.role, s.name, s.version, _candidate_text(s), _trigger_text(s)] for s in items],
            ["role", "name", "version", "candidate", "triggers"],
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
@SKILLS_DIR_OPTION
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
    versions = [v for s in reg for v in (s, s.candidate) if v is not None]
    for skill in versions:
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
    problems += candidate_problems(reg, Path(skills_dir).resolve().parent)
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
    extra = len(versions) - len(reg)
    more = f" (and {extra} candidate version{'s' if extra != 1 else ''})" if extra else ""
    click.echo(f"OK: {len(reg)} skills{more} and the shared resources are valid.")


def candidate_problems(reg: Registry, root: Path) -> list[str]:
    """Each file a candidate's ``canary.replaces`` names must be one its live version may
    load (the guard in the live version's role): a candidate never reads more."""
    from bot.access.guard import Guard
    from bot.errors import AccessDenied

    problems = []
    for skill in reg:
        cand = skill.candidate
        if cand is None or cand.config.canary is None:
            continue
        for shared in cand.config.canary.replaces:
            try:
                Guard(skill, root=root).check_resource(root / shared)
            except AccessDenied as exc:
                problems.append(
                    f"{cand.source}/aspora.config.yaml: field 'canary.replaces.{shared}': "
                    f"the live version may not load it ({exc.rule})"
                )
    return problems
