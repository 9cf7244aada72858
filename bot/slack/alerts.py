"""The Slack destination of alerts (``bot.alerts.channels.AlertChannel``): a message in
``ECM_ALERT_CHANNEL`` per alert — the skill, the figure against its threshold, the window,
the last error and how to see the trace — and its resolution as a reply in the alert's
thread, also shown in the channel. Any failure to post is ``ChannelDown``: the alert stays
pending and the next pass posts it (the WebClient already retried 429s and 5xx)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.alerts.channels import RESOLVE, ChannelDown, Notice
from bot.slack.blocks.kit import escape, section

ICONS = {"critical": "🔴", "error": "🟠", "warning": "🟡", "info": "🔵"}


def alert_blocks(notice: Notice) -> list[dict]:
    """The alert (or its resolution) as Block Kit: a title, then one line per fact."""
    icon = "✅" if notice.action == RESOLVE else ICONS.get(notice.severity, "⚠️")
    lines = [f"{icon} *{escape(notice.title())}*"]
    for label, text in notice.lines():
        value = escape(text)
        if text.startswith("ecm-bot "):  # the command in code style, then its note
            command, paren, rest = text.partition(" (")
            value = f"`{escape(command)}`" + (f" {paren.strip()}{escape(rest)}" if paren else "")
        lines.append(f"*{escape(label)}:* {value}")
    return [section("\n".join(lines))]


class SlackAlerts:
    """Posts alerts to one channel through the bot's WebClient."""

    name = "slack"

    def __init__(self, client: WebClient, channel: str):
        self.client = client
        self.channel = channel

    def send(self, notice: Notice) -> str | None:
        reply = notice.action == RESOLVE and bool(notice.ref)  # in the alert's thread
        try:
            answer = self.client.chat_postMessage(
                channel=self.channel,
                text=escape(notice.title())[:300],
                blocks=alert_blocks(notice),
                unfurl_links=False,
                unfurl_media=False,
                thread_ts=notice.ref if reply else None,
                reply_broadcast=True if reply else None,
            )
        except SlackApiError as exc:
            raise ChannelDown(
                f"Slack chat.postMessage to {self.channel}: {exc.response.get('error')}"
            ) from None
        except Exception as exc:  # the network: URLError, timeouts, connection resets
            raise ChannelDown(f"Slack unreachable: {type(exc).__name__}: {exc}") from None
        return str(answer.get("ts") or "") or None
