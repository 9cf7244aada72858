"""The SLA watch's notifier on Slack: DMs (chat.postMessage to the user's DM channel, opened
once per notifier by ``DmChannels``) and posts in the escalation channel. A failed call raises,
so the watch retries the notice."""

from __future__ import annotations

from slack_sdk.web import WebClient

from bot.errors import EcmError
from bot.slack.dm_channels import DmChannels
from bot.slack.posting import NO_UNFURL


class SlackNotifier:
    def __init__(self, client: WebClient, escalation_channel: str):
        self.client = client
        self.escalation_channel = escalation_channel
        self.dm_channels = DmChannels(client)

    def direct(self, slack_id: str, text: str) -> None:
        channel = self.dm_channels(slack_id)
        try:
            self.client.chat_postMessage(channel=channel, text=text, **NO_UNFURL)
        except Exception:
            self.dm_channels.forget(slack_id)
            raise

    def escalation(self, text: str) -> None:
        if not self.escalation_channel:
            raise EcmError(
                "ECM_ESCALATION_CHANNEL is not set, so an SLA escalation has nowhere to go"
            )
        self.client.chat_postMessage(channel=self.escalation_channel, text=text, **NO_UNFURL)
