"""Who is calling: a Slack user ID resolved to a roster member.

The roster's Slack ID column decides. Only a member whose Slack ID is empty can be found by
the profile email users.info gives, and only for a full member of this workspace (not a
guest, not someone from another organisation over Slack Connect, not a bot); that first match
records the Slack ID on the roster, with an audit row, so the next lookup is by ID. Hits are
cached, stamped with the roster's version in the system of record (``roster_version``, bumped
by the database on every roster change, whoever makes it), so a role or active-flag change,
a sheet sync's included, counts from the next request on every replica."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from bot.errors import NotOnRoster
from bot.runtime.roster import Member, Roster
from bot.stores.factory import Stores
from bot.stores.workbook import RowUpdate

log = logging.getLogger(__name__)
NOT_ON_ROSTER = (
    "Sorry, you're not on the ECM roster, so I can't act for you. "
    "Ask an ECM manager to add you to the Agents tab."
)


def outsider(user: dict, team: dict) -> str | None:
    """Why a users.info ``user`` is not a full member of the workspace ``team`` (auth.test's
    ``team_id`` and ``enterprise_id``), or None when they are one."""
    if user.get("deleted"):
        return "a deactivated account"
    if user.get("is_bot") or user.get("is_app_user") or user.get("id") == "USLACKBOT":
        return "a bot"
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        return "a guest"
    if user.get("is_stranger"):
        return "outside the workspace"
    if user.get("is_email_confirmed") is False:
        return "an unconfirmed email"
    if not team.get("team_id"):
        return "not known to be from this workspace (auth.test failed)"
    org = (user.get("enterprise_user") or {}).get("enterprise_id")
    if user.get("team_id") != team.get("team_id") and not (
        org and org == team.get("enterprise_id")
    ):
        return "from another workspace (Slack Connect)"
    return None


class SlackIdentity:
    def __init__(self, client: WebClient, stores: Callable[[], Stores], ttl_seconds: int = 300):
        self.client = client
        self.stores = stores
        self._cache: TTLCache = TTLCache(maxsize=2048, ttl=ttl_seconds)
        self._version: int | None = None
        self._team: dict | None = None
        self._lock = threading.Lock()

    def resolve(self, user_id: str) -> Member:
        """The active roster member behind ``user_id``, or NotOnRoster (a polite message)."""
        stores = self.stores()
        version = stores.state.roster_version()
        with self._lock:
            if version != self._version:  # the roster changed: nothing cached still holds
                self._cache.clear()
                self._version = version
            cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        roster = Roster.load(stores.workbook)
        member = roster.by_slack_id(user_id) or self._by_email(stores, roster, user_id)
        if member is None or not member.active or not member.roles:
            raise NotOnRoster(NOT_ON_ROSTER)
        with self._lock:
            if self._version == version:
                self._cache[user_id] = member
        return member

    def _by_email(self, stores: Stores, roster: Roster, user_id: str) -> Member | None:
        """The member whose Slack ID is empty and whose email is this full workspace member's
        profile email; their Slack ID is recorded on the roster (audited)."""
        user = self._user(user_id)
        email = ((user or {}).get("profile") or {}).get("email")
        member = roster.by_email(email) if email else None
        if user is None or member is None:
            return None
        if member.slack_id:  # pinned to another Slack account: the email proves nothing
            log.warning(
                "Slack user %s has the profile email of a roster member pinned to another "
                "Slack ID; refused",
                user_id,
            )
            return None
        why = outsider(user, self._workspace())
        if why is not None:
            log.warning("Slack user %s matches a roster email but is %s; refused", user_id, why)
            return None
        with stores.db.transaction():
            missed = stores.workbook.update(
                "Agents",
                [RowUpdate(member.email, {"Slack user ID": user_id}, {"Slack user ID": ""})],
            )
            if not missed:
                stores.state.audit(
                    actor="slack",
                    action="slack_id_linked",
                    target=f"agents:{member.email}",
                    before={"Slack user ID": ""},
                    after={"Slack user ID": user_id},
                )
        if not missed:
            log.info("linked Slack user %s to the roster member with that email", user_id)
        return Roster.load(stores.workbook).by_slack_id(user_id)  # someone else may have won

    def _user(self, user_id: str) -> dict | None:
        try:
            return self.client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return None

    def _workspace(self) -> dict:
        """This app's workspace (auth.test's team_id and enterprise_id), asked once."""
        if self._team is None:
            try:
                answer = self.client.auth_test()
            except SlackApiError as exc:
                log.warning("auth.test failed: %s", exc.response.get("error"))
                return {}
            self._team = {
                "team_id": answer.get("team_id"),
                "enterprise_id": answer.get("enterprise_id"),
            }
        return self._team
