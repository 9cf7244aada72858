"""Spans around the bot's units of work, behind a small interface: a no-op until a tracer is
installed, so code everywhere may open spans at no cost.

``configure()`` installs the OpenTelemetry tracer (``otel.py``) when
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set; it
exports over OTLP/HTTP in batches, and ``shutdown()`` (registered at exit; the CLI calls it
when a command ends) sends what is left. Tests ``install()`` a tracer of their own.

- ``start_run``: one span per skill execution (``bot.runtime.executor.recording``). Its trace
  id comes from the run's workflow id and its span id from its execution id, so field work
  that joins a manager run's workflow lands in that run's trace, under its span, without
  storing anything (``trace_id_of`` gives the trace id of a workflow).
- ``span``: a unit of work of its own (a sheet-sync cycle, a model call, a tool call).
- ``child_span``, ``statement_span``, ``transaction_span``, ``warehouse_span``: adapter calls
  (database statements and write transactions, warehouse queries), recorded only inside a
  traced unit of work, so background chatter (lock heartbeats, scrapes, health checks) makes
  no traces.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Protocol

AttrValue = str | bool | int | float | tuple[str, ...]
Attributes = Mapping[str, AttrValue | None]
"""Span attributes; None values are left out."""

ENDPOINT_ENVS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
MAX_QUERY_TEXT = 2000


class Span(Protocol):
    def set_attribute(self, key: str, value: AttrValue) -> None: ...


class RunSpan(Protocol):
    """The span of one skill execution, current until ``finish``."""

    def finish(self, outcome: str, error: str | None, attributes: Attributes) -> None: ...


class Tracer(Protocol):
    """What an installed tracer does (``otel.OtelTracer``)."""

    def span(self, name: str, kind: str, attributes: Attributes) -> AbstractContextManager[Span]:
        """A current span around a block; ``kind`` is internal, client, server, producer or
        consumer. An exception leaving the block marks it failed."""
        ...

    def in_span(self) -> bool:
        """Whether a span is current (a traced unit of work is under way)."""
        ...

    def start_run(
        self,
        name: str,
        attributes: Attributes,
        *,
        execution_id: str,
        workflow_id: str,
        parent_id: str | None,
    ) -> RunSpan: ...

    def flush(self) -> None: ...

    def shutdown(self) -> None: ...


class _NullSpan:
    def set_attribute(self, key: str, value: AttrValue) -> None:
        pass

    def finish(self, outcome: str, error: str | None, attributes: Attributes) -> None:
        pass


NULL_SPAN = _NullSpan()
_NULL: AbstractContextManager[Span] = nullcontext(NULL_SPAN)
_tracer: Tracer | None = None


def install(tracer: Tracer | None) -> Tracer | None:
    """Make ``tracer`` the one every span goes to (None: spans are no-ops); returns the
    previous one. Tests install an OtelTracer over an in-memory exporter."""
    global _tracer
    previous, _tracer = _tracer, tracer
    return previous


def installed() -> Tracer | None:
    return _tracer


def span(
    name: str, attributes: Attributes | None = None, *, kind: str = "internal"
) -> AbstractContextManager[Span]:
    """A span around a block (the root of a trace when none is current)."""
    tracer = _tracer
    if tracer is None:
        return _NULL
    return tracer.span(name, kind, attributes or {})


def child_span(
    name: str, attributes: Attributes | None = None, *, kind: str = "internal"
) -> AbstractContextManager[Span]:
    """A span around a block, only inside a traced unit of work (else a no-op)."""
    tracer = _tracer
    if tracer is None or not tracer.in_span():
        return _NULL
    return tracer.span(name, kind, attributes or {})


def start_run(
    name: str,
    attributes: Attributes,
    *,
    execution_id: str,
    workflow_id: str,
    parent_id: str | None = None,
) -> RunSpan:
    """The span of one skill execution (see the module docstring); ``finish`` ends it."""
    tracer = _tracer
    if tracer is None:
        return NULL_SPAN
    return tracer.start_run(
        name, attributes, execution_id=execution_id, workflow_id=workflow_id, parent_id=parent_id
    )


_FIRST_WORD = re.compile(r"^\s*(\w+)")
_TARGET = re.compile(r"\b(?:FROM|INTO|UPDATE|TABLE)\s+\"?(\w+)", re.IGNORECASE)
_QUERY_NAME = re.compile(r"--\s*name:\s*([\w.-]+)")


_batch: ContextVar[Counter[str] | None] = ContextVar("ecm_db_transaction", default=None)


def _summary(sql: str) -> tuple[str, str | None]:
    first = _FIRST_WORD.match(sql)
    target = _TARGET.search(sql)
    return (first.group(1).upper() if first else "SQL"), (target.group(1) if target else None)


@contextmanager
def transaction_span(system: str) -> Iterator[None]:
    """One client span for a whole write transaction on the system of record (its statements,
    one UPDATE per ticket row say, are counted in ``ecm.db.statements`` rather than traced one
    by one); a no-op outside a traced unit of work or inside another transaction."""
    tracer = _tracer
    if tracer is None or _batch.get() is not None or not tracer.in_span():
        yield
        return
    counts: Counter[str] = Counter()
    token = _batch.set(counts)
    try:
        attributes = {"db.system.name": system, "db.operation.name": "TRANSACTION"}
        with tracer.span("transaction", "client", attributes) as span:
            yield
            span.set_attribute("ecm.db.statements", tuple(f"{k} x{n}" for k, n in counts.items()))
            span.set_attribute("db.operation.batch.size", sum(counts.values()))
    finally:
        _batch.reset(token)


def statement_span(system: str, sql: str) -> AbstractContextManager[Span]:
    """A client span for one statement on the system of record (``db.system.name`` sqlite or
    postgresql), or a count in the enclosing ``transaction_span``. The SQL is parameterised
    (``?`` placeholders), so its text holds no values."""
    tracer = _tracer
    if tracer is None:
        return _NULL
    counts = _batch.get()
    if counts is not None:
        operation, table = _summary(sql)
        counts[f"{operation} {table}" if table else operation] += 1
        return _NULL
    if not tracer.in_span():
        return _NULL
    operation, table = _summary(sql)
    return tracer.span(
        f"{operation} {table}" if table else operation,
        "client",
        {
            "db.system.name": system,
            "db.operation.name": operation,
            "db.collection.name": table,
            "db.query.text": sql[:MAX_QUERY_TEXT],
        },
    )


def warehouse_span(system: str, sql: str) -> AbstractContextManager[Span]:
    """A client span for one named, read-only warehouse query (``-- name:`` in its header
    gives the span its name); parameters are bound, never in the text."""
    tracer = _tracer
    if tracer is None or not tracer.in_span():
        return _NULL
    found = _QUERY_NAME.search(sql)
    name = found.group(1) if found else "query"
    return tracer.span(
        f"warehouse {name}",
        "client",
        {
            "db.system.name": system,
            "db.operation.name": "SELECT",
            "db.query.summary": name,
            "db.query.text": sql[:MAX_QUERY_TEXT],
        },
    )


def trace_id_int(workflow_id: str) -> int:
    """The trace id (128 bits) of a workflow: the same in every process, never zero."""
    digest = hashlib.sha256(b"ecm-trace:" + workflow_id.encode()).digest()
    return int.from_bytes(digest[:16], "big") or 1


def span_id_int(execution_id: str) -> int:
    """The span id (64 bits) of an execution's span, never zero."""
    digest = hashlib.sha256(b"ecm-span:" + execution_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") or 1


def trace_id_of(workflow_id: str) -> str:
    """The trace id of a workflow as tracing back ends show it (32 hex digits), e.g. to link
    an alert or ``ecm-bot trace`` to the trace of a manager run and its field work."""
    return f"{trace_id_int(workflow_id):032x}"


def configure(env: Mapping[str, str] = os.environ) -> bool:
    """Install the OTLP tracer when an endpoint is set and none is installed yet, flushed at
    exit; True when this call installed it. Without an endpoint spans stay no-ops and no
    OpenTelemetry module is imported."""
    if _tracer is not None:
        return False
    if not any((env.get(name) or "").strip() for name in ENDPOINT_ENVS):
        return False
    from bot.observability.otel import OtelTracer

    install(OtelTracer.from_env(env))
    atexit.register(shutdown)
    return True


def flush() -> None:
    """Export the spans ended so far (a no-op without a tracer)."""
    if _tracer is not None:
        _tracer.flush()


def shutdown() -> None:
    """Export what is left and stop the tracer; later spans are no-ops. Idempotent."""
    global _tracer
    tracer, _tracer = _tracer, None
    if tracer is not None:
        tracer.shutdown()
