"""What every Slack listener shares: settings, the Web API client, the registry, the stores
and caller identity, plus small Web API conveniences that never raise."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.runtime.roster import Roster
from bot.skills.registry import Registry
from bot.slack.channels import ChannelDirectory
from bot.slack.dm_channels import DmChannels
from bot.slack.identity import SlackIdentity
from bot.slack.settings import SlackSettings
from bot.stores.factory import Stores

log = logging.getLogger(__name__)


@dataclass
class SlackContext:
    settings: SlackSettings
    client: WebClient
    registry: Registry
    stores: Callable[[], Stores]
    assistant: object | None = None
    identity: SlackIdentity = field(init=False)
    channels: ChannelDirectory = field(init=False)
    """Channel ids by name, for links (conversations.list, cached)."""
    dm_channels: DmChannels = field(init=False)
    """The DM channel with each user (conversations.open, once per user)."""

    def __post_init__(self) -> None:
        self.identity = SlackIdentity(self.client, self.stores)
        self.channels = ChannelDirectory(self.client)
        self.dm_channels = DmChannels(self.client)

    def react(self, channel: str, ts: str, name: str) -> None:
        try:
            self.client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:
            log.info("reactions.add failed: %s", exc.response.get("error"))

    def unreact(self, channel: str, ts: str, name: str) -> None:
        try:
            self.client.reactions_remove(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:
            log.info("reactions.remove failed: %s", exc.response.get("error"))

    def open_dm(self, user_id: str) -> str:
        """The DM channel with ``user_id`` (raises SlackApiError when it cannot be opened)."""
        return self.dm_channels(user_id)

    def notify_managers(self, text: str) -> None:
        """DM every active manager on the roster (budget alerts)."""
        for member in Roster.load(self.stores().workbook).members:
            if "manager" in member.roles and member.active:
                self.dm(member.slack_id, text)

    def dm(self, user_id: str, text: str) -> None:
        """Send a direct message; a failure is logged, not raised (the main action succeeded)."""
        if not user_id:
            return
        try:
            self.client.chat_postMessage(
                channel=self.open_dm(user_id), text=text, unfurl_links=False, unfurl_media=False
            )
        except SlackApiError as exc:
            self.dm_channels.forget(user_id)
            log.warning("DM to %s failed: %s", user_id, exc.response.get("error"))
