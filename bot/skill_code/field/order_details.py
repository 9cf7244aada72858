"""order-details: open one of the caller's own tickets — order detail, event timeline, the
knowledge-graph diagnosis and the one runbook for its stuck reason — and mark it IN_PROGRESS."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.clock import hours_between, parse_ts, ts
from bot.errors import AccessDenied, InputError
from bot.skill_code.field.tickets import current_status, own_ticket
from bot.stores.workbook import RowUpdate

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext

ORDER_FIELDS = (
    "order_id",
    "corridor",
    "amount",
    "currency",
    "receive_amount",
    "receive_currency",
    "payout_partner",
    "payment_method",
    "status",
    "stuck_reason",
    "stuck_since",
    "cleared_at",
    "created_at",
)  # never customer_ref, even though it is pseudonymous


NOTE_HEADING = re.compile(r"^#{2,6}\s*resolution note\b.*$", re.IGNORECASE | re.MULTILINE)


def note_template(runbook: str | None) -> str:
    """The runbook's resolution-note template (its "Resolution note" section: the quoted or
    fenced template in it, else the section's text), or "" when it has none."""
    found = NOTE_HEADING.search(runbook or "")
    if not found or runbook is None:
        return ""
    rest = runbook[found.end() :]
    nxt = re.search(r"^#{1,6}\s", rest, re.MULTILINE)
    body = rest[: nxt.start()] if nxt else rest
    fenced = re.search(r"```[^\n]*\n(.*?)```", body, re.DOTALL)
    if fenced:
        return fenced.group(1).strip()
    quoted = [ln.lstrip(">").strip() for ln in body.splitlines() if ln.startswith(">")]
    if quoted:
        return "\n".join(quoted).strip()
    return body.replace("Use this template:", "").strip()


def run(ctx: SkillContext, order_id: object = None, **_: object) -> dict:
    oid = ctx.order_id(order_id)
    ctx.tool("read_config")
    row = own_ticket(ctx, oid)
    found = ctx.query("ecm-order-detail-v2", order_id=oid)
    order = {k: found[0].get(k) for k in ORDER_FIELDS} if found else None
    timeline = [
        {k: e.get(k) for k in ("event_at", "system", "event_type", "detail")}
        for e in ctx.query("ecm-order-timeline", order_id=oid)
    ]

    code = str(row.get("Stuck Reason") or (order or {}).get("stuck_reason") or "").strip()
    reason = ctx.resources.stuck_reasons().get(code) or {}
    knowledge = ctx.resources.knowledge(code) if reason else {}
    runbook, runbook_missing = None, None
    try:
        runbook = ctx.resources.runbook(code)
    except InputError:
        runbook_missing = f"'{code}' is not a stuck-reason code"
    except AccessDenied as exc:
        if exc.rule != "the file does not exist":
            raise
        runbook_missing = f"no runbook shared/runbooks/{code}.md"

    hours = None
    if order and order.get("stuck_since"):
        end = parse_ts(order["cleared_at"]) if order.get("cleared_at") else ctx.at
        hours = round(hours_between(parse_ts(order["stuck_since"]), min(end, ctx.at)), 1)
    sla = reason.get("sla_hours")
    status = str(row.get("Status") or "")
    marked = False
    if status == "ASSIGNED":
        ctx.tool("update_my_ticket")
        stamp = ts(ctx.at)
        with ctx.transaction():  # the status change and its audit row, together
            conflicts = ctx.workbook.update(
                "Assignments",
                [
                    RowUpdate(
                        oid,
                        {"Status": "IN_PROGRESS", "Updated At": stamp},
                        {"Status": "ASSIGNED", "Assigned Agent": row.get("Assigned Agent")},
                    )
                ],
            )
            if not conflicts:
                ctx.audit(
                    "open_ticket",
                    f"order:{oid}",
                    {"Status": "ASSIGNED"},
                    {"Status": "IN_PROGRESS", "Updated At": stamp},
                )
                status, marked = "IN_PROGRESS", True
        if conflicts:
            status = current_status(ctx, oid)
    ctx.metrics["tickets_opened"] = 1

    return {
        "order_id": oid,
        "status": status,
        "marked_in_progress": marked,
        "priority": str(row.get("Priority") or ""),
        "why": str(row.get("Why") or ""),
        "assigned_at": str(row.get("Assigned At") or ""),
        "amount": row.get("Amount") if order is None else order.get("amount"),
        "currency": str(row.get("Currency") or "") if order is None else order.get("currency"),
        "order": order,
        "in_warehouse": order is not None,
        "hours_stuck": hours,
        "hours_at_triage": row.get("Hours Stuck at triage"),
        "reason": {
            "code": code,
            "title": reason.get("title", ""),
            "team": reason.get("team", ""),
            "sla_hours": sla,
            "severity": reason.get("severity", ""),
            "escalate_to": reason.get("escalate_to", ""),
            "actions": list(reason.get("actions") or []),
        },
        "sla_breached": (hours > float(sla)) if hours is not None and sla is not None else None,
        "diagnosis": " ".join(str(knowledge.get("diagnosis") or "").split()),
        "checks": list(knowledge.get("checks") or []),
        "root_causes": list(knowledge.get("root_causes") or []),
        "timeline": timeline,
        "runbook": runbook,
        "runbook_missing": runbook_missing,
        "note_template": note_template(runbook),
    }
