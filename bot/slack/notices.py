"""The SLA watch's notifier on Slack: DMs (conversations.open, then chat.postMessage) and
posts in the escalation channel. A failed call raises, so the watch retries the notice."""

from __future__ import annotations

from slack_sdk.web import WebClient

from bot.errors import EcmError
from bot.slack.posting import NO_UNFURL


class SlackNotifier:
    def __init__(self, client: WebClient, escalation_channel: str):
        self.client = client
        self.escalation_channel = escalation_channel

    def direct(self, slack_id: str, text: str) -> None:
        channel = self.client.conversations_open(users=slack_id)["channel"]["id"]
        self.client.chat_postMessage(channel=channel, text=text, **NO_UNFURL)

    def escalation(self, text: str) -> None:
        if not self.escalation_channel:
            raise EcmError(
                "ECM_ESCALATION_CHANNEL is not set, so an SLA escalation has nowhere to go"
            )
        self.client.chat_postMessage(channel=self.escalation_channel, text=text, **NO_UNFURL)
