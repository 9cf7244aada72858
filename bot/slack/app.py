"""Build the Bolt app: a Web API client (SLACK_API_URL honoured, 429s retried), the shared
context and the listeners."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import WebClient

from bot.skills.registry import Registry
from bot.slack.app_state import SlackContext
from bot.slack.listeners import register
from bot.slack.settings import SlackSettings
from bot.stores.factory import Stores, open_stores


def web_client(settings: SlackSettings) -> WebClient:
    """A WebClient on ``settings.api_url`` that retries 429 (honouring Retry-After) and 5xx."""
    client = WebClient(token=settings.bot_token or None, base_url=settings.api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=2))
    return client


LISTENER_THREADS = 32
"""Bolt's listener threads. A command is acked from its listener, so with Bolt's default of
five, five slow answers (a triage, a model call) held every later command's ack until one
finished: at 50 concurrent commands the p99 ack was ~0.5 s. The threads share one database
pool per process (``bot.db.postgres``), so more of them open no more connections."""
APP_NAME = "ecm-bot"
"""The Bolt app's name (in its logs)."""


def thread_local_stores(factory: Callable[[], Stores] = open_stores) -> Callable[[], Stores]:
    """One set of store connections per listener thread (SQLite connections are per thread)."""
    local = threading.local()

    def get() -> Stores:
        if getattr(local, "stores", None) is None:
            local.stores = factory()
        return local.stores

    return get


def build_app(
    settings: SlackSettings,
    *,
    registry: Registry | None = None,
    stores: Callable[[], Stores] | None = None,
    token_verification: bool = True,
    assistant: object | None | bool = True,
) -> tuple[App, SlackContext]:
    """The Bolt app with every listener registered, and the context they share."""
    client = web_client(settings)
    app = App(
        name=APP_NAME,  # without it Bolt walks inspect.stack() for a name: 0.1 s per app
        client=client,
        signing_secret=settings.signing_secret or None,
        token_verification_enabled=token_verification,
        raise_error_for_unhandled_request=False,
        listener_executor=ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="ecm-listener"),
    )
    sc = SlackContext(
        settings, client, registry or Registry.load(), stores or thread_local_stores()
    )
    if assistant is True:  # default: from the environment, budget alerts DM'd to managers
        from bot.agents.assistant import Assistant

        assistant = Assistant.from_env(notify=sc.notify_managers)
    sc.assistant = assistant or None
    register(app, sc)
    return app, sc
