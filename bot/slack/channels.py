"""Channel names as links. Slack links a channel by its id (``<#C0123>``), so text such as
"Payments operations lead (#ecm-payments)" (``shared/config/stuck-reasons.yaml``) needs the id
of ``ecm-payments``: ``ChannelDirectory`` reads the workspace's channels with
conversations.list (every page), keeps them for ``ttl`` per process, and answers a name with
its id, or None (a missing channel, or a lookup that failed, stays plain text)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.clock import now

log = logging.getLogger(__name__)

TTL = timedelta(minutes=10)
PAGE = 1000
"""conversations.list's largest page."""
MAX_PAGES = 50
"""At most this many pages per refresh (50,000 channels): a runaway cursor stops here."""


class ChannelDirectory:
    """Channel ids by name, from conversations.list, cached for ``ttl``."""

    def __init__(
        self, client: WebClient, ttl: timedelta = TTL, clock: Callable[[], datetime] = now
    ):
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}
        self._loaded: datetime | None = None

    def __call__(self, name: str) -> str | None:
        """The id of channel ``name`` (with or without its ``#``), or None."""
        key = str(name or "").lstrip("#").strip().lower()
        if not key:
            return None
        with self._lock:
            moment = self.clock()
            if self._loaded is None or moment - self._loaded >= self.ttl:
                self._ids = self._load()
                self._loaded = moment  # a failed load is not retried before the ttl either
            return self._ids.get(key)

    def _load(self) -> dict[str, str]:
        found: dict[str, str] = {}
        cursor: str | None = None
        try:
            for _ in range(MAX_PAGES):
                page = self.client.conversations_list(
                    types="public_channel", exclude_archived=True, limit=PAGE, cursor=cursor
                )
                for channel in page.get("channels") or []:
                    if channel.get("name") and channel.get("id"):
                        found[str(channel["name"]).lower()] = str(channel["id"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as exc:  # e.g. missing_scope (channels:read): names stay text
            log.warning("channel names not resolved: %s", exc.response.get("error"))
            return found
        return found
