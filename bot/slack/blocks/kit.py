"""Block Kit helpers: Slack's limits, escaping of data text, clipping and splitting of long
text on entity-safe boundaries, the block and button builders, and paging into messages of at
most MAX_BLOCKS blocks (MAX_VIEW_BLOCKS for modals and App Home). Raw dicts from pure functions."""

from __future__ import annotations

import re

from bot.present.model import handle

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_ACCESSIBILITY_LABEL = 75
MAX_VALUE = 2000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_ID = 255
MAX_TITLE = 24
MAX_METADATA = 3000
MAX_INPUT = 3000

_SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


# ---------------------------------------------------------------- text helpers


def escape(text: object) -> str:
    """Text safe inside mrkdwn: & < > become entities, so <!channel>, <@U1>, links are inert."""
    if text is None:
        return ""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _entity_safe_cut(text: str, cut: int) -> int:
    """Move an (escaped) text's cut point back so it never falls inside &amp; &lt; &gt;."""
    amp = text.rfind("&", max(0, cut - 4), cut)
    return amp if amp != -1 and ";" not in text[amp:cut] else cut


def clip(text: str, limit: int) -> str:
    """Escaped text cut to at most limit characters, ending with … when cut."""
    if len(text) <= limit:
        return text
    return text[: _entity_safe_cut(text, limit - 1)] + "…"


def _hard_split(text: str, limit: int) -> list[str]:
    pieces = []
    while len(text) > limit:
        cut = _entity_safe_cut(text, limit)
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]


def pack(lines: list[str], limit: int = MAX_SECTION) -> list[list[str]]:
    """Already-escaped lines packed into groups whose newline-joined text fits limit."""
    groups: list[list[str]] = []
    size = 0
    for line in lines:
        for piece in _hard_split(line, limit):
            if groups and size + 1 + len(piece) <= limit:
                groups[-1].append(piece)
                size += 1 + len(piece)
            else:
                groups.append([piece])
                size = len(piece)
    return groups


def chunks(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Escape text and split it on line boundaries into non-blank chunks of at most limit."""
    chunks = ["\n".join(g).strip("\n") for g in pack(escape(text).split("\n"), limit)]
    return [c for c in chunks if c.strip()]


def markdown_to_mrkdwn(text: str) -> str:
    """The little of Markdown runbooks use: # headings and **bold** become *bold*."""
    text = re.sub(r"^#{1,6}\s+(.+?)\s*$", r"*\1*", text, flags=re.MULTILINE)
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)


def mention(email: object, slack_id: str | None) -> str:
    """<@U…> for a well-formed Slack user ID, otherwise the escaped @handle."""
    if slack_id and _SLACK_ID.fullmatch(str(slack_id)):
        return f"<@{slack_id}>"
    return "@" + escape(handle(email))


# ---------------------------------------------------------------- block helpers


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def section(text: str, block_id: str | None = None, accessory: dict | None = None) -> dict:
    block: dict = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION)}}
    if block_id:
        block["block_id"] = join_id(block_id)
    if accessory:
        block["accessory"] = accessory
    return block


def context(*texts: str) -> dict:
    elements = [{"type": "mrkdwn", "text": clip(t, MAX_SECTION)} for t in texts if t][:10]
    return {"type": "context", "elements": elements}


def header(text: str) -> dict:
    return {"type": "header", "text": plain(text, MAX_HEADER)}


def join_id(*parts: object) -> str:
    return ":".join(str(p) for p in parts)[:MAX_ID]


def button(
    text: str,
    action_id: str,
    value: object = None,
    style: str | None = None,
    accessibility_label: str | None = None,
) -> dict:
    button: dict = {"type": "button", "text": plain(text, MAX_BUTTON_TEXT), "action_id": action_id}
    if value not in (None, ""):
        button["value"] = str(value)[:MAX_VALUE]
    if style:
        button["style"] = style
    if accessibility_label:
        button["accessibility_label"] = clip(accessibility_label, MAX_ACCESSIBILITY_LABEL)
    return button


def actions(block_id: str, *buttons: dict) -> dict:
    return {"type": "actions", "block_id": join_id(block_id), "elements": list(buttons)}


def paginate(blocks: list[dict], limit: int = MAX_BLOCKS) -> list[list[dict]]:
    """Blocks split into messages of at most limit blocks (no messages for no blocks)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return [blocks[i : i + limit] for i in range(0, len(blocks), limit)]


def paginate_groups(groups: list[list[dict]], limit: int = MAX_BLOCKS) -> list[list[dict]]:
    """Like paginate, but a group of blocks (one ticket) stays in one message when it fits."""
    pages: list[list[dict]] = []
    for group in groups:
        if pages and len(pages[-1]) + len(group) <= limit:
            pages[-1].extend(group)
        else:
            pages.extend(paginate(list(group), limit))
    return pages


def text_messages(text: str) -> list[list[dict]]:
    """Already-rendered plain text (a dashboard, a digest) as escaped mrkdwn sections, paged."""
    return paginate([section(c) for c in chunks(text or "")])
