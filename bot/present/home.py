"""The manager's App Home: the dashboard skill's result (run-ecm) as a dashboard — its counts
as fields, the last triage's time and result, the SLA breaches as rows with Details and
Assign…, a way to see all of them, and Refresh / Run triage. Every figure is the dashboard
result's own, and the last triage's counts are those its summary posted, so the Home, the
``dashboard`` reply and the triage summary agree. ``breach_details`` and ``all_breaches`` are
what Details and See all show."""

from __future__ import annotations

from bot.present import counts
from bot.present.manager import away_text
from bot.present.model import (
    Action,
    Actions,
    Element,
    Fields,
    Heading,
    Item,
    Line,
    Mention,
    Note,
    Text,
    View,
    bold,
    code,
    handle,
    line,
)

BREACHES_SHOWN = 8
"""The Home lists the first this many SLA breaches; See all shows every one."""
ALL_SHOWN = 1000
"""See all lists at most this many (the rest: ``ecm-bot dashboard --json``)."""


def _priorities(data: dict) -> str:
    return " · ".join(f"{p} {n}" for p, n in data["by_priority"].items()) or "none"


def dashboard_fields(data: dict) -> Fields:
    """The dashboard's counts: open tickets, by priority, SLA breaches, resolved today, in
    progress, waiting (snoozed), escalated, not yet assigned and stuck in the warehouse."""
    status = data["by_status"]
    return Fields(
        (
            ("Open tickets", str(data["open"])),
            ("By priority", _priorities(data)),
            ("⏱️ SLA breaches", str(len(data["sla_breaches"]))),
            ("✅ Resolved today", str(data["resolved_today"])),
            ("🔧 In progress", str(status.get("IN_PROGRESS", 0))),
            ("⏳ Waiting on someone", str(status.get("WAITING", 0))),
            ("🚨 Escalated by agents", str(status.get("ESCALATED", 0))),
            ("⚠️ Stuck, not assigned", str(data["not_on_sheet"])),
            ("Stuck in the warehouse", str(data["stuck_in_warehouse"])),
        )
    )


def last_triage_line(last: dict | None) -> Line:
    """🎯 Last triage 2026-12-02 07:00 UTC by @maya.manager: 167 assigned of 200 · ⚠️
    Unassigned 33 · 🚨 Escalated 0 · New 4 · moved 1 · closed 2 (the summary's counts)."""
    if not last:
        return line("🎯 No triage has run yet: press Run triage.")
    when = str(last.get("finished_at") or last.get("started_at") or "")[:16]
    head = f"🎯 Last triage {when} UTC by @{handle(last.get('started_by'))}"
    if last.get("status") != "done":
        return line(head + f": {last.get('status')} (run {last.get('run_id')})")
    c = last.get("counts") or {}
    return line(
        head + ": ",
        bold(f"{c.get('assigned', 0)} assigned"),
        f" of {c.get('pending', 0)} stuck · ⚠️ Unassigned: {c.get('unassigned', 0)}"
        f" · 🚨 Escalated: {c.get('escalated', 0)} · New {c.get('new', 0)}"
        f" · moved {c.get('moved', 0)} · closed {c.get('closed', 0)}",
    )


def breach_line(b: dict) -> Line:
    """P1 `EU116QEI06` · CHECKOUT_TIMEOUT"""
    return line(bold(b["priority"]), " ", code(b["order_id"]), f" · {b['reason']}")


def breach_detail(b: dict) -> Line:
    """36h stuck vs 2h SLA · @ravi.india"""
    who: tuple = (Mention(b["agent"]),) if b.get("agent") else ("unassigned",)
    waiting = (" · ⏳ waiting",) if b.get("status") == "WAITING" else ()
    return line(f"{b['hours']:.0f}h stuck vs {b['sla_hours']}h SLA · ", *who, *waiting)


def breach_item(b: dict) -> Item:
    oid = b["order_id"]
    return Item(
        oid,
        (breach_line(b),),
        (breach_detail(b),),
        (
            Action(
                "Details",
                "home_breach_details",
                oid,
                accessibility_label=f"Details of order {oid}",
            ),
            Action(
                "Assign…",
                "home_assign",
                oid,
                command=f"assign {oid} @AGENT REASON",
                accessibility_label=f"Assign order {oid} to another agent",
            ),
        ),
    )


def manager_home(data: dict) -> View:
    """The dashboard for App Home: counts, the last triage, the controls, then the first
    BREACHES_SHOWN SLA breaches as rows with actions, and the resolution median."""
    breaches = data["sla_breaches"]
    controls = [
        Action(
            "🔄 Refresh", "home_refresh", "refresh", accessibility_label="Refresh the dashboard"
        ),
        Action("Run triage", "run_triage", "run", "primary", command="triage"),
    ]
    if breaches:
        controls.insert(
            1,
            Action(
                f"See all {len(breaches)} breaches",
                "home_see_all",
                "sla_breaches",
                accessibility_label=f"See all {len(breaches)} SLA breaches",
            ),
        )
    if data.get("not_on_sheet"):  # stuck with no ticket: the whole list, a page at a time
        controls.insert(
            -1,
            Action(
                "See unassigned",
                "unowned_all",
                "unassigned",
                command="show all unassigned",
                accessibility_label="See every unassigned stuck order, a page at a time",
            ),
        )
    elements: list[Element] = [
        Heading("📊 ECM dashboard"),
        dashboard_fields(data),
        Note((last_triage_line(data.get("last_triage")),)),
        Actions("home_dashboard", tuple(controls)),
    ]
    if away_text(data):  # who is away, today's handovers
        elements.insert(3, Note((line(away_text(data)),)))
    if data.get("canaries"):  # candidate versions of skills and their diffs
        elements.insert(3, Note(tuple(canary_line(e) for e in data["canaries"])))
    if breaches:
        shown = min(len(breaches), BREACHES_SHOWN)
        title = f"⏱️ SLA breaches — {len(breaches)}, worst first"
        title += f" (the first {shown}; See all for the rest)" if len(breaches) > shown else ""
        elements.append(Text((line(bold(title)),)))
        elements += [breach_item(b) for b in breaches[:BREACHES_SHOWN]]
    else:
        elements.append(Text((line("⏱️ No SLA breaches: every open ticket is within its SLA."),)))
    med = data.get("median_minutes_to_resolve")
    if med is not None:
        elements.append(
            Note(
                (
                    line(
                        f"✅ Median {med:.0f} min from assignment to resolution today "
                        "(the SLA counts from when the order got stuck)"
                    ),
                )
            )
        )
    return View(elements)


def canary_line(e: dict) -> Line:
    """🧪 triage-and-assign 1.1.0 beside 1.0.0 (shadow): 3 runs, last diff 2.1% · rule holds
    (one candidate of ``bot.canary.status``; a split shows both versions' success and p95)."""
    head = f"🧪 {e['skill']} {e['candidate_version']} beside {e['live_version']} ({e['strategy']}"
    if e["state"] != "candidate":
        return line(f"{head}): {e['state'].replace('_', ' ')} by {e['changed_by']}")
    if e["strategy"] == "shadow":
        runs = e["runs"]
        last = (
            f", last diff {runs[-1]['share']:.1%}" if runs and runs[-1]["share"] is not None else ""
        )
        figures = f"{len(runs)} run{'s' if len(runs) != 1 else ''}{last}"
    else:
        figures = " vs ".join(
            f"{v} {_rate(f['success_rate'])} ok, p95 {_ms(f['p95_ms'])}"
            for v, f in e["versions"].items()
        )
    verdict = "rule holds" if e["rule_holds"] else f"not yet: {e['why']}"
    return line(f"{head}): {figures} · ", bold(verdict))


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def _ms(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:.0f} ms"


def breach_details(b: dict) -> View:
    """One SLA breach in full (what Details shows a manager; no runbook: DEC-011)."""
    rows = [
        ("Order", b["order_id"]),
        ("Priority", b["priority"]),
        ("Stuck reason", b["reason"]),
        ("Agent", "@" + handle(b["agent"]) if b.get("agent") else "unassigned"),
        ("Stuck for", f"{b['hours']:.0f}h"),
        ("SLA", f"{b['sla_hours']}h (breached by {b['hours'] - b['sla_hours']:.0f}h)"),
    ]
    return View(
        [
            Fields(tuple(rows)),
            Note((line(f"Say `assign {b['order_id']} @AGENT REASON` to move it."),)),
        ]
    )


def all_breaches(data: dict) -> View:
    """Every SLA breach, one line each (at most ALL_SHOWN), worst first."""
    breaches = data["sla_breaches"]
    rows = [
        line(
            bold(b["priority"]),
            " ",
            code(b["order_id"]),
            f" · {b['hours']:.0f}h vs {b['sla_hours']}h · {b['reason']} · "
            f"@{handle(b['agent'] or '-')}",
        )
        for b in breaches[:ALL_SHOWN]
    ]
    if len(breaches) > ALL_SHOWN:
        rows.append(line(f"… and {len(breaches) - ALL_SHOWN} more: `ecm-bot dashboard --json`"))
    by_priority = counts(dict(sorted(_tally(breaches).items())))
    head = line(f"{len(breaches)} open tickets past their SLA ({by_priority or 'none'})")
    return View([Text((head,)), Text(tuple(rows), more="breaches (ecm-bot dashboard --json)")])


def _tally(breaches: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for b in breaches:
        out[b["priority"]] = out.get(b["priority"], 0) + 1
    return out
