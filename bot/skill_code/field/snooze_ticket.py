"""snooze-ticket: set one of the caller's own open tickets WAITING for a while (30m, 2h, 1d; at
most 7 days) with a required note, while they wait on a partner or a colleague. The SLA keeps
running; the wake pass (``bot/sla/wake.py``) brings it back to the top of their queue with a
DM. The status change, the snooze and the audit row commit together."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.clock import ts
from bot.errors import InputError
from bot.ids import free_text
from bot.skill_code.field.tickets import open_count, own_ticket, require_open, set_status
from bot.stores.snoozes import Snooze, Snoozes
from bot.stores.workbook import WAITING

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext

MAX_NOTE = 500
MAX_SNOOZE = timedelta(days=7)
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_PART = re.compile(r"(\d{1,4})\s*([mhd])")
USAGE = (
    "Please say how long and why: `snooze ORDER_ID DURATION NOTE`, for example "
    "`snooze AE136ABC00 2h waiting on LULU confirmation` (30m, 2h, 1d; at most 7 days)."
)


def parse_duration(value: object) -> timedelta:
    """``30m``, ``2h``, ``1d`` or a sum such as ``1h30m``, from 1 minute to 7 days; else
    InputError saying what is accepted."""
    text = str(value or "").strip().lower()
    if not text:
        raise InputError(USAGE, field="duration")
    parts = _PART.findall(text)
    if not parts or _PART.sub("", text).strip():
        raise InputError(
            f"Sorry, '{text}' is not a duration I know. Use minutes, hours or "
            "days, like 30m, 2h or 1d (at most 7 days).",
            field="duration",
        )
    length = sum((timedelta(**{UNITS[unit]: int(n)}) for n, unit in parts), timedelta())
    if length < timedelta(minutes=1):
        raise InputError("Please snooze for at least 1 minute (30m, 2h, 1d).", field="duration")
    if length > MAX_SNOOZE:
        raise InputError(
            f"Sorry, {text} is longer than the 7 days a ticket may wait; snooze for 7d or "
            "less and snooze again if you are still waiting.",
            field="duration",
        )
    return length


def check_note(note: object) -> str:
    """The note as given (untrusted text, stored verbatim), or InputError."""
    try:
        return free_text(note, limit=MAX_NOTE, usage=USAGE, what="note")
    except InputError as exc:
        raise InputError(str(exc), field="note") from exc


def run(
    ctx: SkillContext,
    order_id: object = None,
    duration: object = None,
    note: object = None,
    **_: object,
) -> dict:
    oid = ctx.order_id(order_id)
    length = parse_duration(duration)
    text = check_note(note)
    row = own_ticket(ctx, oid)
    status = require_open(ctx, oid, row, "snooze")
    snoozes = Snoozes(ctx.stores.db)
    earlier = snoozes.get(oid) if status == WAITING else None
    resume = earlier.resume_status if earlier else status  # where it goes back to
    stamp, until = ts(ctx.at), ts(ctx.at + length)

    ctx.tool("update_my_ticket")
    with ctx.transaction():  # status, snooze and audit row: all or nothing
        set_status(ctx, row, WAITING, status, "snoozing")
        snoozes.put(Snooze(oid, ctx.caller.email, until, text, resume, stamp))
        ctx.audit(
            "snooze_ticket",
            f"order:{oid}",
            {"Status": status},
            {"Status": WAITING, "Updated At": stamp, "Until": until, "Note": text},
        )
    ctx.metrics["snoozes"] = 1

    return {
        "order_id": oid,
        "status": WAITING,
        "previous_status": status,
        "resume_status": resume,
        "priority": str(row.get("Priority") or ""),
        "reason_code": str(row.get("Stuck Reason") or ""),
        "until": until,
        "minutes": int(length.total_seconds() // 60),
        "note": text,
        "at": stamp,
        "open": open_count(ctx),
    }
