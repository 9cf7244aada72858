"""Going away and coming back, for the field skill (an agent about themselves) and the manager
skill (a manager for an agent). Going away: the time is read in the agent's own time zone
(``bot/sla/away_time.py``); an agent who is the last one on shift for a team is refused and the
managers are told instead (nothing moves); otherwise the away row, the handover
(``bot/sla/handover.py``) and the audit rows commit in one transaction, and the result lists
the one DM per person concerned (sent by the Slack follow-up ``dm_handover``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    moment, stores = ctx.at, ctx.stores
    end = parse_until(until, member, moment)
    stamp, end_stamp = ts(moment), ts(end)
    roster = Roster.load(stores.workbook)
    others_away = set(AwayStore(stores.db).away_at(moment)) - {member.email}
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
