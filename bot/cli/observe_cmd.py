"""Observability: ``ecm-bot trace`` (a day's executions as a timeline) and ``ecm-bot metrics``
(counts, success rate, p95 latency and custom metrics in three tiers). Both are computed by the
database (``bot.stores.reports``): an index range for the day, grouped queries and indexed
p95 look-ups for the tiers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import click

from bot.cli import cli
from bot.cli.output import emit_json, table
from bot.runtime.executor import today
from bot.stores.factory import open_stores
from bot.stores.reports import CUSTOM_DAYS, Reports


def _valid_day(ctx, param, value: str | None) -> str:
    if value is None:
        return today()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD, e.g. 2026-11-24") from None


@cli.command()
@click.option(
    "--date", "day", callback=_valid_day, help="The day (YYYY-MM-DD, UTC); default today."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def trace(day: str, as_json: bool) -> None:
    """The day's executions as a timeline: each manager run, then the field work on its tickets.

    Example: ecm-bot trace --date 2026-11-24
    """
    reports = Reports(open_stores().db)
    rows, notices = reports.day(day), reports.day_notices(day)
    by_workflow: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_workflow[r["workflow_id"]].append(r)
    if as_json:
        emit_json({"date": day, "workflows": by_workflow, "sla_notices": notices})
        return
    if not rows and not notices:
        click.echo(f"No executions on {day}.")
        return
    under: dict[str, list[dict]] = defaultdict(list)  # workflow -> its tickets' notices
    loose: list[dict] = []
    for n in notices:
        (under[n["workflow_id"]] if n["workflow_id"] in by_workflow else loose).append(n)

    def first(kv: tuple[str, list[dict]]) -> str:
        return min(str(r["started_at"]) for r in kv[1])

    for workflow, items in sorted(by_workflow.items(), key=first):
        # times are to the second: within one, the workflow's own run comes before its work
        lines = [
            (str(r["started_at"]), r["id"] != workflow, _indent(r) + trace_line(r)) for r in items
        ]
        lines += [(str(n["at"]), True, "  " + notice_line(n)) for n in under[workflow]]
        for _, _, text in sorted(lines, key=lambda line: line[:2]):
            click.echo(text)
    for n in loose:  # a ticket whose triage ran on another day
        click.echo(notice_line(n))


def _indent(r: dict) -> str:
    return "  " if r["parent_id"] and r["id"] != r["workflow_id"] else ""


NOTICE_WORDS = {
    "sla_warn": "warned",
    "sla_renotify": "reminded",
    "sla_escalate": "escalated a breach of",
}


def notice_line(n: dict) -> str:
    """One SLA watch notice on the timeline, e.g. ``09:00:03 — SLA watch: warned sarah@ of
    AE136ABC00 (warn:60)``."""
    agent = str(n["after"].get("agent") or "?").split("@")[0] + "@"
    if n["action"] in AWAY_ACTIONS:
        return f"{str(n['at'])[11:19]} — {away_line(n, agent)}"
    verb = NOTICE_WORDS.get(n["action"], n["action"])
    kind = n["after"].get("kind", "")
    if n["action"] == "sla_escalate":
        what = f"{verb} {n['target']} (owner {agent})"
    else:
        what = f"{verb} {agent} of {n['target']} ({kind})"
    return f"{str(n['at'])[11:19]} — SLA watch: {what}"


AWAY_ACTIONS = ("handover", "handover_to_managers", "shift_digest", "away", "back")


def away_line(n: dict, agent: str) -> str:
    """An away, a come-back, a handover or a shift digest on the timeline."""
    after, target = n["after"], str(n["target"]).split(":", 1)[-1]
    short = target.split("@")[0] + "@"
    if n["action"] == "handover":
        was = str(after.get("handover_from") or "?").split("@")[0] + "@"
        to = str(after.get("Assigned Agent") or "?").split("@")[0] + "@"
        return f"Handover: {target} from {was} (away) to {to}"
    if n["action"] == "handover_to_managers":
        return (
            f"Handover: {target} stays with {agent} (away) for the managers ({after.get('kind')})"
        )
    if n["action"] == "shift_digest":
        return f"Shift digest: {agent} shift ended, {len(after.get('open') or [])} open"
    if n["action"] == "away":
        return f"Away: {short} until {str(after.get('until') or '?')[:16]} UTC"
    return f"Back: {short}"


OUTCOME_MARKS = {"ok": "✅", "error": "❌"}


def trace_line(r: dict) -> str:
    """One execution as the design's timeline shows it, e.g. ``07:00:12 — Manager:
    triage-and-assign started (cron, 167 orders) ✅ 49 ms`` and ``09:22:12 — Field (sarah@):
    resolve-ticket (AE136ABC00) ✅ 18 ms``."""
    orders = r.get("order_ids") or []
    if r["role"] == "manager":
        who = "Manager"
        what = f"{r['skill']} started ({r['trigger']}"
        what += f", {len(orders)} orders)" if orders else ")"
    else:
        who = f"{str(r['role']).capitalize()} ({str(r['caller']).split('@')[0]}@)"
        what = r["skill"] + (f" ({orders[0]})" if len(orders) == 1 else "")
        what += f" ({len(orders)} orders)" if len(orders) > 1 else ""
    if r.get("trigger") == "mcp":  # bot/mcp: an MCP client's call
        what = what.replace("(mcp", "(via MCP") if r["role"] == "manager" else what + " via MCP"
    mark = OUTCOME_MARKS.get(r["outcome"], f"⛔ {r['outcome']}")
    line = f"{str(r['started_at'])[11:19]} — {who}: {what} {mark} {r['duration_ms']:.0f} ms"
    return line + (f" ({r['error']})" if r.get("error") else "")


def _breaches(stores, tiers: dict, days: int) -> dict[str, list[str]]:
    """Each skill's monitoring thresholds against its figures (failures: the last ``days``)."""
    from datetime import timedelta

    from bot.clock import now, ts
    from bot.skills.monitoring import breaches
    from bot.skills.registry import Registry

    since = ts(now() - timedelta(days=days))
    failed = {
        r["skill"]: int(r["n"])
        for r in stores.db.query(
            "SELECT skill, COUNT(*) AS n FROM executions WHERE started_at >= ? "
            "AND outcome = 'error' GROUP BY skill",
            [since],
        )
    }
    found = {}
    for skill in Registry.load():
        figures = tiers["by_skill"].get(skill.name)
        if figures:
            problems = breaches(skill, {**figures, "failures": failed.get(skill.name, 0)})
            if problems:
                found[skill.name] = problems
    return found


def _sync_lag(stores) -> dict | None:
    """The sheet sync's last outcome and lag in seconds (None when no sync ever ran)."""
    from bot.clock import now, parse_ts
    from bot.sync.sheets_sync import sync_status

    status = sync_status(stores)
    if status is None:
        return None
    ok = status.get("last_ok_at")
    return {
        "last_ok_at": ok,
        "lag_s": int((now() - parse_ts(ok)).total_seconds()) if ok else None,
        "last_error": status.get("last_error"),
        "requests": status.get("requests"),
    }


@cli.command()
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=CUSTOM_DAYS,
    show_default=True,
    help="Window of the custom metrics, in days (counts, success and p95 cover everything).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def metrics(days: int, as_json: bool) -> None:
    """Execution metrics in three tiers: everything, per domain and role, per skill (with each
    skill's custom metrics, last value and total, over the last 7 days or --days).

    Example: ecm-bot metrics
    """
    stores = open_stores()
    tiers = Reports(stores.db).metrics(days=days)
    tiers["sheet_sync"] = _sync_lag(stores)
    tiers["breaches"] = _breaches(stores, tiers, days)
    if as_json:
        emit_json(tiers)
        return
    a = tiers["all"]
    click.echo(
        f"All executions: {a['executions']} · success {a['success_rate']} · p95 {a['p95_ms']} ms\n"
    )
    click.echo(
        table(
            [
                [k, v["executions"], v["success_rate"], v["p95_ms"]]
                for k, v in tiers["by_role"].items()
            ],
            ["domain/role", "executions", "success", "p95 ms"],
        )
    )
    click.echo()
    click.echo(
        table(
            [
                [
                    k,
                    v["executions"],
                    v["success_rate"],
                    v["p95_ms"],
                    ", ".join(f"{m}={d['last']}" for m, d in v["custom"].items()),
                ]
                for k, v in tiers["by_skill"].items()
            ],
            ["skill", "executions", "success", "p95 ms", f"custom metrics (last, {days} d)"],
        )
    )
    click.echo(
        f"\nCustom metrics cover executions since {tiers['custom_window']['since']} UTC "
        f"(the last {days} days); counts, success and p95 cover all kept executions."
    )
    for name, problems in tiers["breaches"].items():
        click.echo(f"⚠️ {name}: " + "; ".join(problems) + " (monitoring thresholds)")
    sync = tiers["sheet_sync"]
    if sync:
        lag = "never succeeded" if sync["lag_s"] is None else f"last synced {sync['lag_s']} s ago"
        error = f"; last try failed: {sync['last_error']}" if sync["last_error"] else ""
        click.echo(f"Sheet sync: {lag}{error}.")
