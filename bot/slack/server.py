"""Serving the app: HTTP (a WSGI app with /slack/events, /healthz, /readyz and /metrics,
served by waitress) or Socket Mode (no public URL needed; health and metrics on
ECM_HEALTH_PORT)."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.health import health_response
from bot.slack.gate import guarded, signing_secret_of

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


def wsgi_app(app: App, metrics=None):
    """A WSGI callable: Slack requests at /slack/events, health at /healthz and /readyz, and
    Prometheus at /metrics (``metrics``, a WSGI app; default ``bot.gauges.metrics_app()``)."""
    slack = guarded(SlackRequestHandler(app, path=EVENTS_PATH), signing_secret_of(app))
    if metrics is None:
        from bot.gauges import metrics_app

        metrics = metrics_app()

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)
        health = health_response(path, start_response)
        if health is not None:
            return health
        if path == EVENTS_PATH:
            return slack(environ, start_response)
        body = b"not found"
        start_response(
            "404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return application


HTTP_THREADS = 8
CONNECTION_LIMIT = 1000
"""waitress's open-connection limit (its default, 100, refused a burst of 200 commands)."""


def serve_http(app: App, port: int, host: str = "0.0.0.0", threads: int = HTTP_THREADS) -> None:
    """Serve with waitress, a production WSGI server."""
    import waitress

    log.info("ECM bot listening on http://%s:%d%s", host, port, EVENTS_PATH)
    waitress.serve(
        wsgi_app(app),
        host=host,
        port=port,
        threads=threads,
        connection_limit=CONNECTION_LIMIT,
        ident="ecm-bot",
    )


def serve_socket(app: App, app_token: str) -> None:
    """Socket Mode: an outbound WebSocket to Slack; no public URL."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.health import serve_health_from_env

    serve_health_from_env()
    SocketModeHandler(app, app_token).start()
