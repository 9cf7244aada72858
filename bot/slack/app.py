"""Build the Bolt app: a Web API client (SLACK_API_URL honoured, 429s retried), the shared
context and the listeners."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import default_interval_calculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import WebClient

from bot.skills.registry import Registry
from bot.slack.app_state import SlackContext
from bot.slack.listeners import register
from bot.slack.settings import SlackSettings
from bot.stores.factory import Stores, open_stores

RATE_LIMIT_JITTER = 1.0
"""The most seconds added at random to a 429's Retry-After before the retry (slack_sdk's own
up-to-a-second, so that clients told the same Retry-After do not all come back at once)."""


class RateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler with its jitter as a parameter: before the next attempt it
    waits the response's Retry-After seconds (1 when the header is missing) plus
    ``random() * jitter``. The default, ``RATE_LIMIT_JITTER``, is the SDK's behaviour;
    ``jitter=0`` waits exactly Retry-After (tests whose fake answers ``Retry-After: 0``)."""

    def __init__(
        self,
        max_retry_count: int = 1,
        interval_calculator: RetryIntervalCalculator = default_interval_calculator,
        *,
        jitter: float = RATE_LIMIT_JITTER,
    ):
        super().__init__(max_retry_count, interval_calculator)
        self.jitter = jitter

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:  # as the SDK's: only a 429 response is retried here
            raise error or RuntimeError("a rate-limit retry without a response")
        state.next_attempt_requested = True
        retry_after = next(
            (v for k, v in response.headers.items() if k.lower() == "retry-after"), None
        )
        seconds = int(retry_after[0]) if retry_after is not None else 1
        time.sleep(seconds + random.random() * self.jitter)
        state.increment_current_attempt()


def web_client(
    settings: SlackSettings,
    *,
    rate_limit_jitter: float = RATE_LIMIT_JITTER,
    server_error_backoff: RetryIntervalCalculator = default_interval_calculator,
) -> WebClient:
    """A WebClient on ``settings.api_url`` that retries 429 (honouring Retry-After) and 5xx.

    The retries' timing: ``rate_limit_jitter`` is the most seconds added at random to a 429's
    Retry-After (``RateLimitRetryHandler``; default slack_sdk's 1 s); ``server_error_backoff``
    spaces the 5xx retries (default slack_sdk's exponential back-off with jitter, from 0.5 s).
    Production uses the defaults; a test against a fake Web API may pass ``0`` and
    ``FixedValueRetryIntervalCalculator(0)`` to retry without sleeping."""
    client = WebClient(token=settings.bot_token or None, base_url=settings.api_url)
    client.retry_handlers.append(RateLimitRetryHandler(max_retry_count=3, jitter=rate_limit_jitter))
    client.retry_handlers.append(
        ServerErrorRetryHandler(max_retry_count=2, interval_calculator=server_error_backoff)
    )
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
