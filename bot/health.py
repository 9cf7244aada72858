"""Health endpoints for every long-running process: ``/healthz`` (liveness: the process is
up) and ``/readyz`` (readiness: the system of record answers and, when configured, the
warehouse too; 503 naming the failing part), and ``/metrics`` for Prometheus
(``bot/gauges.py``). The HTTP Slack app serves them beside /slack/events; the Socket Mode
worker, the scheduler and the sheet sync serve them on ``ECM_HEALTH_PORT`` when it is set."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from wsgiref.simple_server import WSGIRequestHandler, make_server

from bot.errors import EcmError

log = logging.getLogger(__name__)
HEALTH_PORT_ENV = "ECM_HEALTH_PORT"


def readiness(env: Mapping[str, str] = os.environ) -> tuple[bool, dict[str, str]]:
    """(ready, {part: "ok" or why not}) for the database and a configured warehouse."""
    from bot.db import open_database
    from bot.paths import data_dir
    from bot.stores.factory import configured_warehouse

    parts: dict[str, str] = {}
    try:
        open_database(data_dir(), env).scalar("SELECT 1 AS one")
        parts["database"] = "ok"
    except EcmError as exc:
        parts["database"] = str(exc)
    try:
        warehouse = configured_warehouse(env)
        if warehouse is not None:
            warehouse.ping()
            parts["warehouse"] = "ok"
    except EcmError as exc:
        parts["warehouse"] = str(exc)
    return all(v == "ok" for v in parts.values()), parts


def _json(start_response, status: str, payload: dict) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def health_response(path: str, start_response, ready=readiness) -> Iterable[bytes] | None:
    """The answer for /healthz or /readyz, or None for any other path."""
    if path == "/healthz":
        return _json(start_response, "200 OK", {"ok": True})
    if path == "/readyz":
        ok, parts = ready()
        status = "200 OK" if ok else "503 Service Unavailable"
        return _json(start_response, status, {"ok": ok, "checks": parts})
    return None


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_health(
    port: int, ready: Callable[[], tuple[bool, dict[str, str]]] = readiness, metrics=None
):
    """Serve /healthz, /readyz and /metrics (``metrics``, a WSGI app; default
    ``bot.gauges.metrics_app()``) on ``port`` in a daemon thread; returns the server."""
    if metrics is None:
        from bot.gauges import metrics_app

        metrics = metrics_app()

    def application(environ, start_response):
        if environ.get("PATH_INFO", "") == "/metrics":
            return metrics(environ, start_response)
        answer = health_response(environ.get("PATH_INFO", ""), start_response, ready)
        if answer is None:
            return _json(start_response, "404 Not Found", {"ok": False})
        return answer

    server = make_server("0.0.0.0", port, application, handler_class=_Quiet)
    # a short poll so that shutdown() returns within 50 ms, not the default half second
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    log.info("health endpoints on port %d (/healthz, /readyz, /metrics)", server.server_port)
    return server


def serve_health_from_env(env: Mapping[str, str] = os.environ):
    """Start the health server when ECM_HEALTH_PORT is set (a whole number); else None."""
    raw = env.get("ECM_HEALTH_PORT", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise EcmError(f"ECM_HEALTH_PORT must be a port number (1-65535), not {raw!r}.")
    return serve_health(int(raw))
