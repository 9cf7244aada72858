"""Who is calling: a Slack user ID resolved to a roster member (Slack ID column first, then
users.info's email), cached with a TTL. Only hits are cached, so a newly added member works at
once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.errors import NotOnRoster
from bot.runtime.roster import Member, Roster

log = logging.getLogger(__name__)


class SlackIdentity:
    def __init__(self, client: WebClient, roster: Callable[[], Roster], ttl_seconds: int = 300):
        self.client = client
        self.roster = roster
        self._cache: TTLCache = TTLCache(maxsize=2048, ttl=ttl_seconds)
        self._lock = threading.Lock()

    def resolve(self, user_id: str) -> Member:
        """The active roster member behind ``user_id``, or NotOnRoster (a polite message)."""
        with self._lock:
            cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        roster = self.roster()
        member = roster.by_slack_id(user_id)
        if member is None:
            email = self._email(user_id)
            member = roster.by_email(email) if email else None
        if member is None or not member.active or not member.roles:
            raise NotOnRoster(
                "Sorry, you're not on the ECM roster, so I can't act for you. "
                "Ask an ECM manager to add you to the Agents tab."
            )
        with self._lock:
            self._cache[user_id] = member
        return member

    def _email(self, user_id: str) -> str | None:
        try:
            user = self.client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return None
        return (user.get("profile") or {}).get("email")
