"""Log lines: the level a command runs at, and their format (ECM_LOG_FORMAT).

``text`` (the default): ``time level logger message``. ``json``: one JSON object a line with
``timestamp`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, plus ``exception`` when
one is logged and, inside a skill run, ``execution_id``, ``workflow_id``, ``skill`` and
``role`` (set by the executor through ``execution_context``).

No customer data is added: a record's other attributes (``extra=``) are never written, so a
customer reference, a resolution note or an email reaches a log line only if the message
itself says it. The bot's own messages name order IDs, skills, agents' emails and error
texts, never a customer reference or the free text people wrote.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
CONTEXT_FIELDS = ("execution_id", "workflow_id", "skill", "role")

_execution: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "ecm_execution", default=None
)


def bind_execution(execution_id: str, workflow_id: str, skill: str, role: str):
    """Label the log lines of this context (a skill run) until ``unbind_execution(token)``."""
    return _execution.set(
        {"execution_id": execution_id, "workflow_id": workflow_id, "skill": skill, "role": role}
    )


def unbind_execution(token) -> None:
    _execution.reset(token)


def current_execution() -> dict[str, str]:
    return dict(_execution.get() or {})


class JsonFormatter(logging.Formatter):
    """One JSON object per record: the fields above and nothing else of the record."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(current_execution())
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format(env: Mapping[str, str] = os.environ) -> str:
    """ECM_LOG_FORMAT, ``text`` when unset or not one of FORMATS (doctor names a bad value)."""
    value = (env.get("ECM_LOG_FORMAT") or "").strip().lower()
    return value if value in FORMATS else "text"


def configure(level: int, env: Mapping[str, str] = os.environ) -> None:
    """Replace the root handlers: one stderr handler at ``level`` in ECM_LOG_FORMAT. Called
    by the CLI (WARNING, or DEBUG under --debug) and again by the long-running commands
    (INFO), so it must replace, not add to, what an earlier call set."""
    handler = logging.StreamHandler(sys.stderr)
    fmt = log_format(env)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    raw = (env.get("ECM_LOG_FORMAT") or "").strip()
    if raw and raw.lower() != fmt and raw not in _warned:
        _warned.add(raw)
        logging.getLogger("bot").warning(
            "ECM_LOG_FORMAT=%r is not text or json; logging as text", raw
        )


_warned: set[str] = set()
