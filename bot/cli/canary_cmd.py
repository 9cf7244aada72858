"""``ecm-bot canary``: candidate versions of skills — their status, promotion and rollback,
one canary pass, and trying a candidate folder beside a dry run of its live version."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from bot.cli import cli
from bot.cli.output import emit_json, terminal_safe
from bot.errors import AccessDenied, EcmError, InputError, SkillConfigError

AS_OPTION = click.option(
    "--as",
    "as_email",
    metavar="EMAIL",
    help="The roster manager doing it (audited); default the CLI operator.",
)


def _notifier():
    """DM the active managers on Slack when it is configured, else print the message."""
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env()
    if not settings.bot_token:
        return lambda text: click.secho(f"(Slack not configured) {text}", fg="yellow", err=True)
    from bot.runtime.roster import Roster
    from bot.slack.app import web_client
    from bot.slack.posting import manager_notifier
    from bot.stores.factory import open_stores

    return manager_notifier(web_client(settings), lambda: Roster.load(open_stores().workbook))


def _actor(stores, as_email: str | None) -> str:
    from bot.cli.common import operator

    member = operator(stores, as_email)
    if "manager" not in member.roles:
        raise AccessDenied(
            skill="canary",
            role="/".join(member.roles),
            resource="canary",
            rule="only ECM managers release skill versions",
            message=f"Sorry, {member.email} is not an ECM manager; only managers promote or "
            "roll back a skill version. Nothing was changed.",
        )
    return member.email


@cli.group()
def canary() -> None:
    """Candidate versions of skills: shadow runs and their diffs, traffic splits, promotion
    and rollback.

    Example: ecm-bot canary status
    """


@canary.command("status")
@click.argument("skill", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status_cmd(skill: str | None, as_json: bool) -> None:
    """Each candidate: its strategy and state, its runs so far (each shadow run's diff; a
    split's success rate and p95 beside the live version's) and whether its rule holds.

    Example: ecm-bot canary status --json
    """
    from bot.canary.status import status
    from bot.cli.common import load
    from bot.clock import now

    registry, stores = load()
    if skill is not None:
        registry.get(skill)  # a polite NotFound for an unknown name
    entries = [e for e in status(registry, stores.db, now()) if skill in (None, e["skill"])]
    if as_json:
        emit_json(entries)
        return
    if not entries:
        click.echo("No candidates: no skill folder has a canary/ folder.")
        return
    for e in entries:
        click.echo(terminal_safe(_entry_text(e)))


def _entry_text(e: dict) -> str:
    head = (
        f"{e['skill']}: live {e['live_version']}, candidate {e['candidate_version']} "
        f"({e['strategy']}, {e['state'].replace('_', ' ')})"
    )
    lines = [head]
    if e["strategy"] == "shadow":
        rule = e["rule"]
        lines.append(
            f"  rule: diff below {rule['max_diff']:.0%} over at least {rule['min_runs']} shadow "
            f"runs{' (promotes automatically)' if e['auto_promote'] else ''}"
        )
        for r in e["runs"]:
            if r["outcome"] != "ok":
                lines.append(f"  {r['at']}  run {r['run']} {r['outcome']}: {r['error']}")
                continue
            lines.append(
                f"  {r['at']}  run {r['run']} (live {r['live_run']}, workflow "
                f"{r['workflow_id']}): {r['share']:.1%} of {r['orders']} orders differ — agent "
                f"{r['agent_share']:.1%}, priority {r['priority_share']:.1%}; assigned only "
                f"live {len(r['only_live'])}, only candidate {len(r['only_candidate'])}"
            )
    else:
        rule = e["rule"]
        lines.append(
            f"  split: {rule['share']:.0%} of callers; window {rule['window_minutes']} min, "
            f"from {rule['min_runs']} runs; margin {rule['margin']:.0%}"
        )
        for version, f in e["versions"].items():
            rate = "—" if f["success_rate"] is None else f"{f['success_rate']:.1%}"
            p95 = "—" if f["p95_ms"] is None else f"{f['p95_ms']:.0f} ms"
            lines.append(f"  {version}: {f['runs']} runs, success {rate}, p95 {p95}")
    lines.append(f"  rule holds: {'yes' if e['rule_holds'] else 'no'} — {e['why']}")
    return "\n".join(lines)


@canary.command("promote")
@click.argument("skill")
@click.option("--force", is_flag=True, help="Promote even though the rule does not hold.")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@AS_OPTION
def promote_cmd(skill: str, force: bool, reason: str, as_email: str | None) -> None:
    """Make SKILL's candidate live for every request (audited; the managers are told; the
    old version is kept for `ecm-bot canary rollback SKILL`).

    Example: ecm-bot canary promote triage-and-assign
    """
    from bot.canary.promote import promote
    from bot.cli.common import load
    from bot.clock import now

    registry, stores = load()
    by = _actor(stores, as_email)
    click.echo(
        promote(
            registry,
            stores.db,
            skill,
            by=by,
            moment=now(),
            notify=_notifier(),
            force=force,
            reason=reason,
        )  # fmt: skip
    )


@canary.command("rollback")
@click.argument("skill")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@AS_OPTION
def rollback_cmd(skill: str, reason: str, as_email: str | None) -> None:
    """Bring SKILL's live version back (after a promotion), or stop its running canary
    (audited; the managers are told).

    Example: ecm-bot canary rollback triage-and-assign
    """
    from bot.canary.promote import rollback
    from bot.cli.common import load
    from bot.clock import now

    registry, stores = load()
    by = _actor(stores, as_email)
    click.echo(
        rollback(registry, stores.db, skill, by=by, moment=now(), notify=_notifier(), reason=reason)
    )


@canary.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check_cmd(as_json: bool) -> None:
    """One canary pass: roll back a failing split candidate (with an alert) and promote a
    candidate whose config says auto and whose rule holds. `ecm-bot alerts check` and the
    scheduler run it before every alert pass.

    Example: ecm-bot canary check
    """
    from bot.canary.watch import canary_pass
    from bot.cli.alerts_cmd import alert_channels
    from bot.cli.common import load
    from bot.clock import now

    registry, stores = load()
    report = canary_pass(registry, stores, now(), notify=_notifier(), channels=alert_channels())
    if as_json:
        emit_json(report.__dict__)
        return
    click.echo(report.line())


@canary.command("try")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def try_cmd(folder: Path, as_json: bool) -> None:
    """Try the candidate in FOLDER: a dry run of its live version and the candidate beside
    it, on the same input; print the diff. Nothing is assigned and nothing is posted; the
    candidate's plan goes to the Assignments_canary table (kind "try": it does not count
    toward promotion).

    Example: ecm-bot canary try examples/canary/triage-and-assign
    """
    from bot.canary.shadow import TRY_TRIGGER
    from bot.canary.store import CanaryStore
    from bot.cli.common import load, operator
    from bot.runtime.executor import execute
    from bot.skills.candidates import load_candidate
    from bot.skills.loader import CONFIG_FILE, raw_config
    from bot.skills.registry import Registry

    registry, stores = load()
    overlay = raw_config(folder / CONFIG_FILE)
    name = overlay.get("skill", {}).get("name") if isinstance(overlay, dict) else None
    if not isinstance(name, str):
        raise SkillConfigError(folder / CONFIG_FILE, "field 'skill.name': name the live skill")
    live = registry.get(name)
    candidate = load_candidate(live, folder.resolve())
    if candidate.config.canary is None or candidate.config.canary.strategy != "shadow":
        raise InputError(f"{folder} is a split candidate; `canary try` runs shadow candidates.")
    tried = Registry([replace(s, candidate=candidate) if s is live else s for s in registry])
    result = execute(
        tried, stores, name, operator(stores, None), {"dry_run": True}, trigger=TRY_TRIGGER
    )
    shown = result.data.get("canary")
    if not shown:
        raise EcmError(f"{name} ran, but its code runs no shadow (its entry point has no hook).")
    row = CanaryStore(stores.db).run(shown["run"]) or {}
    tab = [r for r in CanaryStore(stores.db).tab(name) if r["Version"] == candidate.version]
    if as_json:
        emit_json({"canary": shown, "run": row, "differs": [r for r in tab if r["Differs"]]})
        return
    click.echo(terminal_safe(_try_text(name, live.version, shown, tab)))


def _try_text(name: str, live_version: str, shown: dict, tab: list[dict]) -> str:
    if shown["outcome"] != "ok":
        return f"{name} {shown['version']}: the shadow run {shown['outcome']}: {shown['error']}"
    lines = [
        f"🧪 {name} {shown['version']} beside {live_version} (dry run, same input): "
        f"{shown['share']:.1%} of {shown['orders']} orders differ — agent "
        f"{shown['agent_share']:.1%}, priority {shown['priority_share']:.1%}",
    ]
    differs = [r for r in tab if r["Differs"]]
    for r in differs[:10]:
        lines.append(
            f"  {r['Order ID']}: {r['Live Priority']} {r['Live Agent'] or 'unassigned'} → "
            f"{r['Priority']} {r['Assigned Agent'] or 'unassigned'}"
        )
    if len(differs) > 10:
        lines.append(f"  … and {len(differs) - 10} more (ecm-bot canary try … --json)")
    lines.append(f"The candidate's plan is in the Assignments_canary table (run {shown['run']}).")
    return "\n".join(lines)
