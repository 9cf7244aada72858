"""Going away and coming back, for the field skill (an agent about themselves) and the manager
skill (a manager for an agent). Going away: the time is read in the agent's own time zone
(``bot/sla/away_time.py``); an agent who is the last one on shift for a team is refused and the
managers are told instead (nothing moves); otherwise the away row, the handover
(``bot/sla/handover.py``) and the audit rows commit in one transaction, and the result lists
the one DM per person concerned (sent by the Slack follow-up ``dm_handover``).

Two aways decided at once could each see the other still on shift (both leave, and nobody
covers the team) or hand tickets to each other. So the check, the plan and the write run
under one ``away`` lock across replicas; a second away waits for it (a few seconds at most)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_random

from bot.clock import ts
from bot.errors import Conflict, InputError
from bot.runtime.roster import Member, Roster
from bot.sla.away_time import local_text, parse_until
from bot.sla.handover import apply_handover, manager_notes, notes, plan_handover, uncovered_teams
from bot.sla.watch import Notifier
from bot.stores.away import Away, AwayStore

if TYPE_CHECKING:
    from bot.runtime.skill_run import SkillContext


def _line(oid: str, row: dict, to: str = "") -> dict:
    return {
        "order_id": oid,
        "priority": str(row.get("Priority") or ""),
        "reason_code": str(row.get("Stuck Reason") or ""),
        "to": to,
    }


def go_away(ctx: SkillContext, member: Member, until: object, *, self_service: bool) -> dict:
    """Mark ``member`` away until ``until`` and hand their tickets over (see the module)."""
    if "field" not in member.roles or not member.active:
        raise InputError(
            f"{member.email} is not an active field agent, so there is nothing to hand over."
        )
    end = parse_until(until, member, ctx.at)
    holder = f"{ctx.caller.email} for {member.email}"
    try:
        for attempt in Retrying(
            stop=stop_after_delay(LOCK_WAIT_SECONDS),
            wait=wait_random(0.05, 0.3),
            retry=retry_if_exception_type(Conflict),
            reraise=True,
        ):
            with attempt:
                ctx.stores.state.acquire_lock(LOCK, holder, LOCK_TTL_SECONDS)
    except Conflict:
        raise Conflict(
            "Another away is being set up right now, so nothing was changed. "
            "Please try again in a moment."
        ) from None
    try:
        return _go_away(ctx, member, end, self_service)
    finally:
        ctx.stores.state.release_lock(LOCK, holder)


LOCK = "away"
LOCK_TTL_SECONDS = 60
LOCK_WAIT_SECONDS = 10


def _go_away(ctx: SkillContext, member: Member, end: datetime, self_service: bool) -> dict:
    """The check, the plan and the write of ``go_away``, under its lock."""
    moment, stores = ctx.at, ctx.stores
    stamp, end_stamp = ts(moment), ts(end)
    roster = Roster.load(stores.workbook)
    # not away_at(moment): an away another process set after this run began (it held the
    # lock first) started after ``moment``, and must count too
    others_away = set(AwayStore(stores.db).not_over_at(moment)) - {member.email}
    uncovered = uncovered_teams(member, roster, others_away, moment)
    base = {
        "agent": member.email,
        "handle": member.handle,
        "until": end_stamp,
        "until_local": local_text(member, end_stamp),
        "set_by": ctx.caller.email,
        "self_service": self_service,
        "uncovered": uncovered,
    }
    if uncovered and self_service:  # the managers decide; nothing moves
        text = (
            f"🙋 @{member.handle} asked to be away until {base['until_local']}, but is the last "
            f"agent on shift for {', '.join(uncovered)}, so nothing moved. If someone can "
            f"cover, say `away @{member.handle} until …` to set it for them."
        )
        return {
            **base,
            "refused": True,
            "moved": [],
            "kept": [],
            "dms": manager_notes(roster, text),
        }
    plan = plan_handover(stores, member.email, moment, others_away)
    away = Away(member.email, end_stamp, stamp, ctx.caller.email)
    before = AwayStore(stores.db).get(member.email)
    with ctx.transaction():  # the away, every move, the handover rows and audit rows together
        AwayStore(stores.db).put(away)
        apply_handover(stores, plan, away, moment)
        ctx.audit(
            "away",
            f"agent:{member.email}",
            {"until": before.until, "back_at": before.back_at} if before else None,
            {
                "until": end_stamp,
                "moved": len(plan.moved),
                "kept": len(plan.pinned) + len(plan.no_room),
            },
        )
    ctx.order_ids.extend(sorted(plan.rows))
    ctx.metrics["handovers"] = len(plan.moved)
    return {
        **base,
        "refused": False,
        "moved": [_line(o, plan.rows[o], to) for o, to in sorted(plan.moved.items())],
        "kept": [
            {**_line(o, plan.rows[o]), "why": "pinned" if o in plan.pinned else "no_room"}
            for o in sorted(plan.pinned + plan.no_room)
        ],
        "dms": notes(plan, roster, end_stamp, ctx.caller.email),
    }


def come_back(ctx: SkillContext, member: Member) -> dict:
    """End ``member``'s away now (with its audit row); Conflict when they are not away."""
    stamp = ts(ctx.at)
    store = AwayStore(ctx.stores.db)
    current = store.current(member.email, ctx.at)
    if current is None:
        raise Conflict(
            f"@{member.handle} isn't marked away, so nothing was changed. "
            "Say `away until tomorrow` before you leave."
        )
    with ctx.transaction():
        if not store.back(member.email, stamp):
            raise Conflict(f"@{member.handle} came back a moment ago; nothing was changed.")
        ctx.audit("back", f"agent:{member.email}", {"until": current.until}, {"back_at": stamp})
    return {
        "agent": member.email,
        "handle": member.handle,
        "back": True,
        "was_until": current.until,
        "at": stamp,
        "set_by": ctx.caller.email,
        "dms": [],
    }


def send_dms(dms: list[dict], notifier: Notifier, caller: str) -> list[str]:
    """Outside Slack (``ecm-bot chat``): send the result's DMs through ``notifier``, not the
    caller's own (the reply told them); the emails of those not reached."""
    missed = []
    for dm in dms:
        if dm["email"] == caller:
            continue
        try:
            if not dm.get("slack_id"):
                raise ValueError("no Slack ID on the roster")
            notifier.direct(dm["slack_id"], dm["text"])
        except Exception:  # one DM never stops the others
            missed.append(dm["email"])
    return missed
