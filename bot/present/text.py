"""A view as plain text, for the CLI: one line per line, an item's further lines indented,
actions as the commands to type (``Next: resolve AE… NOTES · escalate AE… REASON``), fields
as ``label: value`` lines, a chart as what it shows in words (``figures`` gives the charts, which
the CLI writes to files), and each thread after its parent, marked 🧵."""

from __future__ import annotations

from bot.present.model import (
    Actions,
    Document,
    Fields,
    Figure,
    Heading,
    Item,
    Note,
    Text,
    View,
    plain_text,
)

INDENT = "   "


def to_text(view: View) -> str:
    """The whole view, threads included, as text."""
    parts = ["\n".join(_lines(view))]
    parts += ["\n🧵 " + to_text(thread) for thread in view.threads]
    return "\n".join(p for p in parts if p)


def _lines(view: View) -> list[str]:
    out: list[str] = []
    for element in view.elements:
        if isinstance(element, Heading):
            out.append(element.text)
        elif isinstance(element, Text | Note):
            out += [plain_text(ln) for ln in element.lines]
        elif isinstance(element, Document):
            out.append(element.markdown.rstrip())
        elif isinstance(element, Item):
            first, *rest = [plain_text(ln) for ln in element.lines] or [""]
            out.append(first)
            out += [INDENT + r for r in rest]
            out += [INDENT + "↳ " + plain_text(ln) for ln in element.detail]
        elif isinstance(element, Fields):
            pairs = [f"{label}: {value}" for label, value in element.pairs]
            out += [" · ".join(pairs[i : i + 4]) for i in range(0, len(pairs), 4)]
        elif isinstance(element, Figure):
            out.append(f"📊 Chart: {element.alt}")
        elif isinstance(element, Actions):
            commands = [a.command for a in element.actions if a.command]
            if commands:
                out.append("Next: " + " · ".join(commands))
    return out


def figures(view: View) -> list[Figure]:
    """The charts of a view and its threads, in order."""
    found = [e for e in view.elements if isinstance(e, Figure)]
    return found + [f for thread in view.threads for f in figures(thread)]
