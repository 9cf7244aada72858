"""PagerDuty Events API v2: an alert opens (``trigger``) and closes (``resolve``) an incident,
keyed by a stable ``dedup_key`` per subject and rule, so a repeat folds into the open incident.

``POST $PAGERDUTY_EVENTS_URL`` (default https://events.pagerduty.com/v2/enqueue) with JSON:
``routing_key`` (the integration key, ``PAGERDUTY_ROUTING_KEY``), ``event_action``,
``dedup_key``, and for a trigger a ``payload`` with ``summary`` (≤ 1024 characters),
``source``, ``severity`` (critical, error, warning, info), ``component``, ``group``,
``class`` and ``custom_details``. 202 is done; 400 means the event itself is wrong, so it is
not retried (``ChannelRejected``); 429, 5xx, a timeout or a network error is retried a few
times with backoff (tenacity, ``BACKOFF`` unless a ``wait`` is given), then left for the next
pass (``ChannelDown``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import requests
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)
from tenacity.wait import wait_base

from bot.alerts.channels import RESOLVE, ChannelDown, ChannelRejected, Notice

DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
SOURCE = "ecm-bot"
BACKOFF: wait_base = wait_exponential(multiplier=0.5, max=4)
"""The wait between attempts when ``PagerDutyEvents`` is given none (``from_env`` gives none):
0.5 s, then 1 s, doubling to at most 4 s. Read when a destination is built, so a test of the
command line can set a zero wait (``tenacity.wait_none()``) for the destinations it builds."""


class _Retry(Exception):
    """A response worth another attempt (429, 5xx, network)."""


class PagerDutyEvents:
    """The PagerDuty destination (``AlertChannel``): one Events API v2 request per notice."""

    name = "pagerduty"

    def __init__(
        self,
        routing_key: str,
        url: str = DEFAULT_URL,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        wait: wait_base | None = None,
        session: requests.Session | None = None,
    ):
        """``attempts`` requests at most per notice, ``wait`` between them (``BACKOFF``)."""
        self.routing_key = routing_key
        self.url = url
        self.timeout = timeout
        self.attempts = attempts
        self.wait = wait if wait is not None else BACKOFF
        self.session = session or requests.Session()

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PagerDutyEvents | None:
        """The destination when PAGERDUTY_ROUTING_KEY is set, else None."""
        key = env.get("PAGERDUTY_ROUTING_KEY", "").strip()
        if not key:
            return None
        return cls(key, env.get("PAGERDUTY_EVENTS_URL", "").strip() or DEFAULT_URL)

    def event(self, notice: Notice) -> dict:
        """The Events API v2 body for ``notice``."""
        body: dict = {
            "routing_key": self.routing_key,
            "event_action": notice.action,
            "dedup_key": notice.dedup_key,
        }
        if notice.action == RESOLVE:
            return body
        group = f"ecm/{notice.details['role']}" if notice.details.get("role") else "ecm"
        body["payload"] = {
            "summary": notice.summary[:1024],
            "source": SOURCE,
            "severity": notice.severity,
            "component": notice.subject,
            "group": group,
            "class": notice.rule,
            "custom_details": {**notice.details, "opened_at": notice.opened_at},
        }
        body["client"] = SOURCE
        return body

    def send(self, notice: Notice) -> str | None:
        body = self.event(notice)
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(_Retry),
                stop=stop_after_attempt(self.attempts),
                wait=self.wait,
                reraise=True,
            ):
                with attempt:
                    return self._post(body)
        except _Retry as exc:
            raise ChannelDown(f"PagerDuty: {exc} (after {self.attempts} attempts)") from None
        return None  # pragma: no cover (Retrying either returns or raises)

    def _post(self, body: dict) -> str:
        try:
            response = self.session.post(self.url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise _Retry(f"{type(exc).__name__} reaching {self.url}") from exc
        if response.status_code in (200, 201, 202):
            return str(_json(response).get("dedup_key") or body["dedup_key"])
        detail = _json(response)
        why = "; ".join(map(str, detail.get("errors") or [])) or detail.get("message") or ""
        text = f"HTTP {response.status_code}" + (f": {why}" if why else "")
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retry(text)
        raise ChannelRejected(
            f"PagerDuty refused the event ({text}); check PAGERDUTY_ROUTING_KEY (`ecm-bot doctor`)"
        )


def _json(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
