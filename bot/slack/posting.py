"""Post skill results as Slack messages: each result's view (``bot.present``) rendered as
Block Kit (``bot.slack.blocks.render``), a view's threads as replies under its message (the
triage summary and one thread per agent), proposals with Confirm / Cancel, escalations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypedDict

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.clock import now
from bot.present import present_result
from bot.present.model import Item, View
from bot.present.unowned import escalation_post
from bot.runtime.executor import SkillResult
from bot.runtime.roster import Roster
from bot.skills.registry import Registry
from bot.slack.blocks.kit import MAX_BLOCKS, context, escape
from bot.slack.blocks.render import SlackIds, figures, messages, mrkdwn
from bot.slack.channels import ChannelDirectory
from bot.stores.slack_messages import Posted, SlackMessages, digest

log = logging.getLogger(__name__)


class Unfurl(TypedDict):
    unfurl_links: bool
    unfurl_media: bool


NO_UNFURL: Unfurl = {"unfurl_links": False, "unfurl_media": False}


def slack_ids(roster: Roster, channels: SlackIds | None = None) -> SlackIds:
    """Members' Slack IDs by email (case-insensitive), for mentions; with ``channels``
    (``bot.slack.channels.ChannelDirectory``), channel ids by ``#name`` too, for links."""
    ids = {m.email.lower(): m.slack_id for m in roster.members if m.slack_id}

    def lookup(key: str) -> str | None:
        key = str(key or "")
        if key.startswith("#"):
            return channels(key) if channels else None
        return ids.get(key.lower())

    return lookup


def result_messages(result: SkillResult, ids: SlackIds | None = None) -> list[list[dict]]:
    """Block Kit messages (each ≤ 50 blocks) of a result's view, threads not included."""
    return messages(present_result(result), ids)


def proposal_blocks(proposal: dict) -> list[dict]:
    """A proposed write with Confirm / Cancel buttons (the id is all the buttons carry)."""
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"🤔 I think you want me to: *{escape(proposal['summary'])[:2800]}*",
            },
        },
        {
            "type": "actions",
            "block_id": f"proposal:{proposal['id']}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "proposal_confirm",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Confirm"},
                    "value": proposal["id"],
                },
                {
                    "type": "button",
                    "action_id": "proposal_cancel",
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "value": proposal["id"],
                },
            ],
        },
    ]


def fallback_text(view: View) -> str:
    """Notification text for a view (Slack shows it where blocks can't be)."""
    return escape(view.summary()[:300])


def item_keys(view: View) -> list[str]:
    """The orders a view lists (its items' keys)."""
    return [e.key for e in view.elements if isinstance(e, Item) and e.key]


def _kind(view: View) -> tuple[str, str]:
    """What a triage message shows, from its view's key: (kind, agent or list name)."""
    name, _, rest = view.key.partition(":")
    if name == "summary":
        return "triage_summary", ""
    if name == "agent":
        return "agent_thread", rest
    return "triage_list", name


def post_view(
    client: WebClient,
    channel: str,
    view: View,
    ids: SlackIds | None = None,
    refs: SlackMessages | None = None,
    run_id: str = "",
) -> str:
    """Post ``view`` in ``channel`` and each of its threads as replies under its first
    message; return that message's ts. With ``refs``, each message is recorded (what it
    shows, its blocks), and a list thread identical to the last one in the channel is not
    posted again."""
    first_ts = ""
    # a recorded summary keeps room for the lines later edits add (progress, re-checked)
    limit = MAX_BLOCKS - 2 if refs is not None and view.key == "summary" else MAX_BLOCKS
    for page in messages(view, ids, limit):
        text = fallback_text(view)
        posted = client.chat_postMessage(channel=channel, blocks=page, text=text, **NO_UNFURL)
        first_ts = first_ts or posted["ts"]
        if refs is not None and view.key:
            kind, agent = _kind(view)
            refs.record(Posted(channel, posted["ts"], kind, run_id, agent, text=text, blocks=page))
    for thread in view.threads:
        for page in messages(thread, ids):
            kind, agent = _kind(thread)
            if refs is not None and kind == "triage_list":
                last = refs.latest("triage_list", channel=channel, agent=agent)
                if last is not None and last.digest == digest(page):
                    continue  # the same unassigned / escalated list as last time
            text = fallback_text(thread)
            posted = client.chat_postMessage(
                channel=channel, thread_ts=first_ts, blocks=page, text=text, **NO_UNFURL
            )
            if refs is not None and thread.key:
                message = Posted(
                    channel, posted["ts"], kind, run_id, agent, "", first_ts, text, page
                )
                refs.record(message, item_keys(thread))
    return first_ts


TOTALS = ("pending", "assigned", "unassigned")


def nothing_changed(data: dict, before: dict) -> bool:
    """A triage that assigned, moved, reopened, closed and escalated nothing, with the same
    totals as the run ``before`` (its recorded counts)."""
    c = data.get("counts") or {}
    if any(c.get(k) for k in ("new", "moved", "closed", "reopened", "escalated")):
        return False
    return all(c.get(k) == before.get(k) for k in TOTALS)


RECHECKED = "triage_rechecked"
"""The block id of the summary's "re-checked, no changes" line."""


def post_triage(
    client: WebClient,
    channel: str,
    result: SkillResult,
    roster: Roster,
    refs: SlackMessages | None = None,
) -> str:
    """Post the triage summary in ``channel`` with one thread reply per agent whose queue
    changed (then the unassigned and escalated orders); return the summary's ts. With
    ``refs`` (the message references), a run that changed nothing edits the channel's last
    summary instead ("re-checked at …, no changes") and posts nothing."""
    data = result.data
    if data.get("dry_run"):
        refs = None  # a dry run's post is never edited later
    last = refs.latest("triage_summary", channel=channel) if refs is not None else None
    run_id = str(data.get("run_id") or "")
    if (
        refs is not None
        and last is not None
        and nothing_changed(data, refs.run_counts(last.run_id))
    ):
        stamp = now().strftime("%Y-%m-%d %H:%M UTC")
        note = context(f"🔄 Re-checked {stamp}: no changes (run {data.get('run_id')})")
        blocks = replace_block(last.blocks, {**note, "block_id": RECHECKED}, RECHECKED)
        try:
            client.chat_update(channel=channel, ts=last.ts, blocks=blocks, text=last.text)
            refs.edited(channel, last.ts, blocks, last.text, run_id)  # it stands for this run
            return last.ts
        except SlackApiError as exc:  # e.g. the message was deleted: post a new one
            log.info("summary %s not edited: %s", last.ts, exc.response.get("error"))
    view = present_result(result)
    return post_view(client, channel, view, slack_ids(roster), refs, run_id)


def replace_block(blocks: list[dict], new: dict, block_id: str) -> list[dict]:
    """``blocks`` with the block ``block_id`` replaced by ``new`` (or ``new`` put before the
    first actions block, else at the end)."""
    kept = [b for b in blocks if b.get("block_id") != block_id]
    at = next((i for i, b in enumerate(kept) if b.get("type") == "actions"), len(kept))
    return [*kept[:at], new, *kept[at:]]


def post_result(
    post: Callable[..., object], result: SkillResult, ids: SlackIds | None = None
) -> list[tuple[object, list[dict], str, View]]:
    """Send a result through ``post(blocks=..., text=...)`` one page at a time (a reply can't
    start threads, so a view's threads follow as further messages); return what ``post``
    gave back for each page (a ts or None), with the page, its text and its view."""
    view = present_result(result)
    sent = []
    for part in (view, *view.threads):
        text = fallback_text(part)
        for page in messages(part, ids):
            sent.append((post(blocks=page, text=text), page, text, part))
    return sent


def post_escalation(
    client: WebClient,
    channel: str,
    data: dict,
    by: str = "",
    ids: SlackIds | None = None,
    refs: SlackMessages | None = None,
) -> str:
    """Post one escalation to the escalation channel (``data``: the order's escalation with
    its amount, age, priority, reason and target; ``by``: who escalated it, empty for triage)
    with Acknowledge and Take; recorded in ``refs`` as the order's escalation post, so acting
    on it edits it in place. Returns its ts ("" when there is no channel)."""
    if not channel:
        return ""
    view = escalation_post(data, by)
    item = view.elements[0]  # the notification says it all, mentions included
    text = "\n".join(mrkdwn(ln, ids) for ln in item.lines) if isinstance(item, Item) else ""
    text = text[:3000] or fallback_text(view)
    page = messages(view, ids)[0]  # one item: one message
    posted = client.chat_postMessage(channel=channel, blocks=page, text=text, **NO_UNFURL)
    ts = str(posted.get("ts") or "")
    if refs is not None and ts:
        oid = str(data.get("order_id") or "")
        refs.record(Posted(channel, ts, "escalation", order_id=oid, text=text, blocks=page), [oid])
    return ts


def post_triage_escalations(
    client: WebClient,
    channel: str,
    result: SkillResult,
    roster: Roster,
    refs: SlackMessages | None = None,
    channels: SlackIds | None = None,
) -> list[str]:
    """Each escalation a triage made, posted to the escalation channel (none for a dry run,
    whose escalations were not written); ``channels`` links the channel names in it."""
    data = result.data
    if not channel or data.get("dry_run"):
        return []
    ids = slack_ids(roster, channels)
    return [post_escalation(client, channel, e, "", ids, refs) for e in data.get("escalated") or []]


def workflow_step(registry: Registry, result: SkillResult, step: str) -> SkillResult | None:
    """A workflow's step (``data["steps"][step]`` names its skill) as that skill's result,
    with that skill's output config; None when the result has no such step."""
    name = (result.data.get("steps") or {}).get(step)
    if not name or step not in result.data:
        return None
    skill = registry.get(name)
    data, output = result.data[step], skill.config.output
    return SkillResult(skill.name, data, result.execution_id, result.workflow_id, output=output)


def channel_publisher(
    client: WebClient,
    channel: str,
    roster: Callable[[], Roster],
    refs: Callable[[], SlackMessages] | None = None,
    escalation_channel: str = "",
):
    """A scheduler publisher that posts results to ``channel`` (triage with its threads,
    recorded in ``refs`` when given, and its escalations in ``escalation_channel``)."""
    channels = ChannelDirectory(client)

    def triage(result: SkillResult) -> None:
        messages_ = refs() if refs else None
        post_triage(client, channel, result, roster(), messages_)
        post_triage_escalations(client, escalation_channel, result, roster(), messages_, channels)

    def publish(result: SkillResult) -> None:
        if result.output.publish == "triage":  # the skill's config says how it is posted
            triage(result)
        else:
            post_result(
                lambda **kw: client.chat_postMessage(channel=channel, **kw, **NO_UNFURL), result
            )

    return publish


def manager_notifier(client: WebClient, roster: Callable[[], Roster]) -> Callable[[str], None]:
    """A function that DMs every active manager on the roster (used by background jobs such as
    the sheet sync); a failed DM is logged, never raised."""

    def notify(text: str) -> None:
        for member in roster().members:
            if "manager" not in member.roles or not member.active or not member.slack_id:
                continue
            try:
                channel = client.conversations_open(users=member.slack_id)["channel"]["id"]
                client.chat_postMessage(
                    channel=channel, text=text, unfurl_links=False, unfurl_media=False
                )
            except SlackApiError as exc:
                log.warning("DM to %s failed: %s", member.email, exc.response.get("error"))

    return notify


def upload_figures(
    client: WebClient, channel: str, view: View, thread_ts: str | None = None
) -> list[str]:
    """Upload each chart of ``view`` (and of its threads) to ``channel`` as a PNG file, under
    ``thread_ts`` when given (files_upload_v2: files.getUploadURLExternal, the bytes to the
    upload URL, files.completeUploadExternal); return the file ids."""
    shown = [*figures(view), *(f for thread in view.threads for f in figures(thread))]
    ids = []
    for figure in shown:
        response = client.files_upload_v2(
            channel=channel,
            file=figure.draw(),
            filename=figure.filename,
            title=figure.title,
            alt_txt=figure.alt[:1000],
            thread_ts=thread_ts,
        )
        ids.append(str((response.get("file") or {}).get("id") or ""))
    return ids
