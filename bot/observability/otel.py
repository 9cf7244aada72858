"""The OpenTelemetry adapter behind ``bot.observability.tracing``: the only module importing
opentelemetry. ``OtelTracer.from_env`` exports over OTLP/HTTP (protobuf POSTs to
``$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces``, in batches); ``OtelTracer.with_processor`` takes
any span processor (tests: ``SimpleSpanProcessor(InMemorySpanExporter())``) and never touches
the process-wide tracer provider, which may be set only once."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from importlib import metadata

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from bot.observability.tracing import Attributes, span_id_int, trace_id_int

log = logging.getLogger(__name__)
SCOPE = "ecm-bot"
DEFAULT_SERVICE = "ecm-bot"
FLUSH_SECONDS = 3.0
_KINDS = {
    "internal": SpanKind.INTERNAL,
    "client": SpanKind.CLIENT,
    "server": SpanKind.SERVER,
    "producer": SpanKind.PRODUCER,
    "consumer": SpanKind.CONSUMER,
}
_next_ids: ContextVar[tuple[int, int] | None] = ContextVar("ecm_next_span_ids", default=None)
_global_set: list[TracerProvider] = []


class WorkflowIds(RandomIdGenerator):
    """Random ids, except for the span a skill run starts: its trace id (used when it starts a
    trace) comes from the workflow id and its span id from the execution id."""

    def generate_trace_id(self) -> int:
        ids = _next_ids.get()
        return ids[0] if ids else super().generate_trace_id()

    def generate_span_id(self) -> int:
        ids = _next_ids.get()
        return ids[1] if ids else super().generate_span_id()


def _clean(attributes: Attributes) -> dict:
    return {k: v for k, v in attributes.items() if v is not None}


def resource(env: Mapping[str, str] = os.environ) -> Resource:
    """service.name from OTEL_SERVICE_NAME (default ecm-bot), service.version from the
    package; OTEL_RESOURCE_ATTRIBUTES adds more."""
    attributes = {"service.name": (env.get("OTEL_SERVICE_NAME") or "").strip() or DEFAULT_SERVICE}
    with suppress(metadata.PackageNotFoundError):
        attributes["service.version"] = metadata.version("ecm-bot")
    return Resource.create(attributes)


class _RunSpan:
    def __init__(self, span: trace.Span, token: object):
        self.span, self.token = span, token

    def finish(self, outcome: str, error: str | None, attributes: Attributes) -> None:
        span = self.span
        span.set_attributes(_clean({**attributes, "ecm.outcome": outcome}))
        if outcome == "error":
            span.set_attribute("error.type", (error or "error").split(":", 1)[0])
            span.set_status(Status(StatusCode.ERROR, error))
        otel_context.detach(self.token)  # type: ignore[arg-type]
        span.end()


class OtelTracer:
    """``bot.observability.tracing.Tracer`` over an OpenTelemetry TracerProvider."""

    def __init__(self, provider: TracerProvider, exporter: SpanExporter | None = None):
        self.provider = provider
        self.exporter = exporter  # stopped at shutdown if it is still retrying
        self._tracer = provider.get_tracer(SCOPE)

    @classmethod
    def with_processor(
        cls, processor: SpanProcessor, env: Mapping[str, str] = os.environ
    ) -> OtelTracer:
        provider = TracerProvider(resource=resource(env), id_generator=WorkflowIds())
        provider.add_span_processor(processor)
        return cls(provider)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> OtelTracer:
        """OTLP/HTTP in batches; the exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers,
        timeout, compression). Also the process-wide provider, for libraries that trace."""
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        exporter = OTLPSpanExporter()
        tracer = cls.with_processor(BatchSpanProcessor(exporter), env)
        tracer.exporter = exporter
        if not _global_set:
            _global_set.append(tracer.provider)
            trace.set_tracer_provider(tracer.provider)
        log.info("traces go over OTLP to %s", env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
        return tracer

    @contextmanager
    def span(self, name: str, kind: str, attributes: Attributes) -> Iterator[trace.Span]:
        with self._tracer.start_as_current_span(
            name, kind=_KINDS[kind], attributes=_clean(attributes)
        ) as span:
            try:
                yield span
            except BaseException as exc:
                span.set_attribute("error.type", type(exc).__name__)
                raise

    def in_span(self) -> bool:
        return trace.get_current_span().get_span_context().is_valid

    def start_run(
        self,
        name: str,
        attributes: Attributes,
        *,
        execution_id: str,
        workflow_id: str,
        parent_id: str | None,
    ) -> _RunSpan:
        context, links = None, []
        if parent_id and workflow_id and workflow_id != execution_id:
            joined = SpanContext(
                trace_id_int(workflow_id),
                span_id_int(parent_id),
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
            if self.in_span():  # inside other work: link to the workflow's run instead
                links.append(Link(joined))
            else:
                context = trace.set_span_in_context(NonRecordingSpan(joined))
        ids = _next_ids.set((trace_id_int(workflow_id or execution_id), span_id_int(execution_id)))
        try:
            span = self._tracer.start_span(
                name, context=context, attributes=_clean(attributes), links=links
            )
        finally:
            _next_ids.reset(ids)
        return _RunSpan(span, otel_context.attach(trace.set_span_in_context(span)))

    def flush(self) -> None:
        self.provider.force_flush()

    def shutdown(self) -> None:
        """Send what is left, waiting at most FLUSH_SECONDS for a collector that does not
        answer (then the exporter's retries are stopped), so a CLI command never hangs on its
        traces."""
        done = threading.Event()

        def stop() -> None:
            self.provider.shutdown()
            done.set()

        threading.Thread(target=stop, name="ecm-trace-shutdown", daemon=True).start()
        if not done.wait(FLUSH_SECONDS) and self.exporter is not None:
            log.warning("traces: the collector did not answer in %gs; dropping", FLUSH_SECONDS)
            self.exporter.shutdown()
            done.wait(FLUSH_SECONDS)
