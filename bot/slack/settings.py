"""Slack settings, read at the edge from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackSettings:
    """Credentials and channels. SLACK_API_URL overrides the Web API base (GovSlack, tests)."""

    bot_token: str = ""
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = DEFAULT_API_URL
    triage_channel: str = ""
    escalation_channel: str = ""
    alert_channel: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SlackSettings:
        url = env.get("SLACK_API_URL") or DEFAULT_API_URL
        return cls(
            bot_token=env.get("SLACK_BOT_TOKEN", ""),
            signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
            app_token=env.get("SLACK_APP_TOKEN", ""),
            api_url=url if url.endswith("/") else url + "/",
            triage_channel=env.get("ECM_TRIAGE_CHANNEL", ""),
            escalation_channel=env.get("ECM_ESCALATION_CHANNEL", ""),
            alert_channel=env.get("ECM_ALERT_CHANNEL", ""),
        )

    def missing(self, socket_mode: bool) -> list[str]:
        """The variables a mode needs that are not set."""
        need = {"SLACK_BOT_TOKEN": self.bot_token}
        if socket_mode:
            need["SLACK_APP_TOKEN"] = self.app_token
        else:
            need["SLACK_SIGNING_SECRET"] = self.signing_secret
        return [name for name, value in need.items() if not value]
