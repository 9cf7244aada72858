"""The format-neutral presentation model: what a result says, once, before any format.

A ``View`` is a list of elements built from ``Line``s of parts (plain, bold or code text, and
mentions of roster members) plus ``Action``s (a button with the command a person would type
instead). ``bot.present.text`` prints a view for the CLI; ``bot.slack.blocks.render`` turns the
same view into Block Kit. Text here is raw data: each renderer escapes it for its format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Style = Literal["plain", "bold", "code"]


@dataclass(frozen=True)
class Span:
    """A run of text in one style."""

    text: str
    style: Style = "plain"


@dataclass(frozen=True)
class Mention:
    """A roster member by email: ``<@U…>`` in Slack when their ID is known, else ``@handle``."""

    email: str


Part = Span | Mention
Line = tuple[Part, ...]


def line(*parts: str | Part) -> Line:
    """A line from parts; a plain ``str`` is plain text."""
    return tuple(Span(p) if isinstance(p, str) else p for p in parts)


def bold(text: object) -> Span:
    return Span(str(text), "bold")


def code(text: object) -> Span:
    return Span(str(text), "code")


def plain_text(ln: Line) -> str:
    """The line's text with no styling (mentions as ``@handle``)."""
    return "".join(p.text if isinstance(p, Span) else "@" + handle(p.email) for p in ln)


def handle(email: object) -> str:
    """The part of an email before the @."""
    return str(email or "").split("@")[0]


@dataclass(frozen=True)
class Action:
    """Something a person can do next: a button (``action_id``, ``value``, ``style``,
    ``accessibility_label``) in Slack, and in text the ``command`` to type instead (None:
    Slack only). Danger style belongs in a confirmation, not in a list."""

    label: str
    action_id: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None
    command: str | None = None
    accessibility_label: str | None = None
    """What a screen reader says for the button ("Resolve order AE136ABC00")."""


@dataclass(frozen=True)
class Heading:
    """A title (a Slack header block)."""

    text: str


@dataclass(frozen=True)
class Text:
    """Lines of body text. ``more`` names what is left out when a one-message view runs out of
    room (``… and 12 more agents``)."""

    lines: tuple[Line, ...]
    more: str = "lines"


@dataclass(frozen=True)
class Note:
    """Secondary lines (a Slack context block; in text, lines like any other)."""

    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Document:
    """A Markdown document shown in full (a runbook): raw in text, mrkdwn in Slack."""

    markdown: str


@dataclass(frozen=True)
class Item:
    """One thing in a list (a ticket): its lines, secondary ``detail`` lines, its buttons and
    a ``menu`` of further actions. ``key`` identifies it (an order id). Its parts are never
    split across Slack messages."""

    key: str
    lines: tuple[Line, ...]
    detail: tuple[Line, ...] = ()
    actions: tuple[Action, ...] = ()
    menu: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Actions:
    """What to do next: buttons in Slack, ``Next: command · command`` in text."""

    key: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Fields:
    """Figures side by side, each a label and its value (a Slack section's fields, at most
    10 a block; in text, ``label: value`` lines)."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Figure:
    """A picture that goes with the view (a chart, ``bot.charts``): a PNG file uploaded beside
    the message in Slack, written to a file by the CLI. ``alt`` says in words what it shows
    (the text line, the file's alt text); ``draw`` makes the PNG bytes, only when a surface
    needs them."""

    filename: str
    title: str
    alt: str
    draw: Callable[[], bytes] = field(compare=False, repr=False)


Element = Heading | Text | Note | Document | Item | Actions | Fields | Figure


@dataclass
class View:
    """A result as people see it: its elements, and ``threads`` posted as replies under it
    (in text, printed after it). ``one_message``: Slack keeps it in a single message (it is
    the parent of its threads), cutting long text to fit."""

    elements: list[Element] = field(default_factory=list)
    threads: list[View] = field(default_factory=list)
    one_message: bool = False
    key: str = ""
    """What the view shows, for a message kept to be edited later (``agent:EMAIL``, …)."""

    def add(self, *elements: Element) -> View:
        self.elements.extend(elements)
        return self

    def summary(self) -> str:
        """The view's first line as plain text (a notification's fallback text)."""
        for element in self.elements:
            if isinstance(element, Heading):
                return element.text
            lines = getattr(element, "lines", ())
            if lines:
                return plain_text(lines[0])
        return ""
