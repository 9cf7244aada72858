"""The bot's DM channel with each user, opened once per process. conversations.open answers
the same channel every time it is asked, so asking before every DM doubled the Web API calls of
an SLA pass (and Slack rate-limits the method). A channel a post then failed on is forgotten,
so the next DM opens it afresh."""

from __future__ import annotations

import threading

from slack_sdk.web import WebClient


class DmChannels:
    """User id -> DM channel id, from conversations.open, kept for the process."""

    def __init__(self, client: WebClient):
        self.client = client
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}

    def __call__(self, user_id: str) -> str:
        """The DM channel with ``user_id``; raises SlackApiError when Slack will not open it."""
        with self._lock:
            known = self._ids.get(user_id)
        if known:
            return known
        channel = self.client.conversations_open(users=user_id)["channel"]["id"]
        with self._lock:
            self._ids[user_id] = channel
        return channel

    def forget(self, user_id: str) -> None:
        """Drop the channel kept for ``user_id`` (a post to it failed)."""
        with self._lock:
            self._ids.pop(user_id, None)
