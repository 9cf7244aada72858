"""A view (``bot.present.model``) as Block Kit: text as escaped mrkdwn sections, notes as
context blocks, items as a section with its buttons (never split across messages), actions
as buttons, fields as a section's fields, a figure as a context line (its file is uploaded
beside the message, ``figures``); paged into messages of at most MAX_BLOCKS blocks, or fitted
into one message (or an App Home budget) with a line saying what was left out."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.present.model import (
    Action,
    Document,
    Element,
    Fields,
    Figure,
    Heading,
    Item,
    Line,
    Mention,
    Note,
    Text,
    View,
)
from bot.slack.blocks.kit import (
    MAX_BLOCKS,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    actions,
    button,
    chunks,
    context,
    escape,
    header,
    join_id,
    markdown_to_mrkdwn,
    mention,
    pack,
    paginate,
    paginate_groups,
    plain,
    section,
)

SlackIds = Callable[[str], "str | None"]
"""A member's Slack ID by email (None when unknown: the mention falls back to @handle), and
a channel's id by ``#name`` (None when unknown: the name stays plain text)."""


CHANNEL_NAME = re.compile(r"(?<![\w#/])#([a-z0-9][a-z0-9_-]{0,79})(?![\w-])")
"""A channel name in plain text (``#ecm-payments``); Slack's names are lower case."""
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,30}")


def link_channels(text: str, ids: SlackIds | None) -> str:
    """Escaped text with each ``#name`` that ``ids("#name")`` knows as a channel link
    (``<#C0123>``); an unknown name stays as it is."""
    if not ids or "#" not in text:
        return text

    def link(found: re.Match) -> str:
        channel = ids("#" + found.group(1))
        return f"<#{channel}>" if channel and _CHANNEL_ID.fullmatch(channel) else found.group(0)

    return CHANNEL_NAME.sub(link, text)


def mrkdwn(ln: Line, ids: SlackIds | None = None) -> str:
    """A line as escaped mrkdwn: *bold*, `code`, mentions, and channel names as links."""
    out = []
    for part in ln:
        if isinstance(part, Mention):
            out.append(mention(part.email, ids(part.email) if ids else None))
        elif part.style == "plain" or not part.text:
            out.append(link_channels(escape(part.text), ids))
        else:
            mark = "*" if part.style == "bold" else "`"
            out.append(f"{mark}{escape(part.text)}{mark}")
    return "".join(out)


def _sections(lines: tuple[Line, ...], ids: SlackIds | None) -> list[dict]:
    return [section("\n".join(g)) for g in pack([mrkdwn(ln, ids) for ln in lines])]


def _context(lines: tuple[Line, ...], ids: SlackIds | None) -> list[dict]:
    texts = ["\n".join(g) for g in pack([mrkdwn(ln, ids) for ln in lines])]
    return [context(*texts[i : i + 10]) for i in range(0, len(texts), 10)]


def _button(a: Action) -> dict:
    return button(a.label, a.action_id, a.value, a.style, a.accessibility_label)


def _menu(menu: tuple[Action, ...]) -> dict | None:
    if not menu:
        return None
    return {
        "type": "overflow",
        "action_id": menu[0].action_id,
        "options": [
            {"text": plain(a.label, MAX_OPTION_TEXT), "value": a.value[:MAX_OPTION_VALUE]}
            for a in menu[:5]
        ],
    }


def element_blocks(element: Element, index: int | str, ids: SlackIds | None = None) -> list[dict]:
    """The blocks of one element (its position makes its block ids unique)."""
    if isinstance(element, Heading):
        return [header(element.text)]
    if isinstance(element, Text):
        return _sections(element.lines, ids)
    if isinstance(element, Note):
        return _context(element.lines, ids)
    if isinstance(element, Document):
        return [section(c) for c in chunks(markdown_to_mrkdwn(element.markdown))]
    if isinstance(element, Item):
        text = "\n".join(mrkdwn(ln, ids) for ln in element.lines) or " "
        blocks = [section(text, join_id("item", index, element.key), _menu(element.menu))]
        blocks += _context(element.detail, ids)
        if element.actions:
            buttons = [_button(a) for a in element.actions]
            blocks.append(actions(join_id("item_actions", index, element.key), *buttons))
        return blocks
    if isinstance(element, Fields):
        return _fields(element)
    if isinstance(element, Figure):  # the file itself is uploaded beside the message
        return [context(f"📊 {escape(element.title)} (chart attached)")]
    return [actions(join_id("actions", index, element.key), *map(_button, element.actions))]


MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000


def _fields(element: Fields) -> list[dict]:
    """Sections of at most MAX_FIELDS fields, each ``*label*`` over its value."""
    texts = [
        {"type": "mrkdwn", "text": f"*{escape(label)}*\n{escape(value)}"[:MAX_FIELD_TEXT]}
        for label, value in element.pairs
    ]
    return [
        {"type": "section", "fields": texts[i : i + MAX_FIELDS]}
        for i in range(0, len(texts), MAX_FIELDS)
    ]


def figures(view: View) -> list[Figure]:
    """The charts a view carries (its own, not its threads'), to upload beside it."""
    return [e for e in view.elements if isinstance(e, Figure)]


def messages(view: View, ids: SlackIds | None = None, limit: int = MAX_BLOCKS) -> list[list[dict]]:
    """The view's messages (threads not included): paged, or one message when the view says
    so."""
    if view.one_message:
        return [fit(view, limit, ids)]
    groups = [element_blocks(e, i, ids) for i, e in enumerate(view.elements)]
    return paginate_groups([g for g in groups if g], limit)


def fit(
    view: View,
    budget: int,
    ids: SlackIds | None = None,
    more: Callable[[int], str] | None = None,
) -> list[dict]:
    """The view's blocks within ``budget``. By default the longest text is cut, ending with
    ``… and N more <what>``; with ``more``, elements are kept in order until the budget is
    reached, then a context line ``more(items left out)`` (for App Home)."""
    groups = [(e, element_blocks(e, i, ids)) for i, e in enumerate(view.elements)]
    if more is not None:
        return _fit_in_order(groups, budget, more)
    total = sum(len(b) for _, b in groups)
    texts = [(e, b) for e, b in groups if isinstance(e, Text)]
    if total > budget and texts:
        text, longest = max(texts, key=lambda g: len(g[1]))
        room = max(1, budget - (total - len(longest)))
        if len(longest) > room:
            kept = _cut_text(text, room, ids)
            groups = [(e, kept if b is longest else b) for e, b in groups]
    blocks = [b for _, group in groups for b in group]
    return paginate(blocks, budget)[0] if blocks else []


def _cut_text(text: Text, room: int, ids: SlackIds | None) -> list[dict]:
    rendered = [mrkdwn(ln, ids) for ln in text.lines]
    packed = pack(rendered)[: room - 1]
    left = len(rendered) - sum(len(g) for g in packed)
    return [*(section("\n".join(g)) for g in packed), section(f"… and {left} more {text.more}")]


def _fit_in_order(
    groups: list[tuple[Element, list[dict]]], budget: int, more: Callable[[int], str]
) -> list[dict]:
    blocks: list[dict] = []
    for shown, (element, group) in enumerate(groups):
        last = shown == len(groups) - 1
        if len(blocks) + len(group) > (budget if last else budget - 1):
            if not isinstance(element, Item):  # text may be cut; an item is whole or absent
                blocks += group[: budget - 1 - len(blocks)]
            left = sum(isinstance(e, Item) for e, _ in groups[shown:])
            return [*blocks, context(more(left))]
        blocks += group
    return blocks
