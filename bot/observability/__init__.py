"""Metrics and traces behind small interfaces, so the rest of the bot never imports a vendor SDK.

- ``tracing``: spans (a no-op until a tracer is installed; ``configure()`` installs the
  OpenTelemetry one when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set). Adapter: ``otel.py``.
- ``metrics``: per-process counters of skill runs and model use, and the ``Gauge`` samples
  that business-gauge sources return (a no-op until a recorder is installed). Adapter:
  ``prometheus.py``, which also serves ``/metrics``.
- ``runs``: one skill execution seen by both (the executor's ``recording`` calls it).
- ``rules`` and ``dashboard``: the Prometheus alert rules and the Grafana dashboard built
  from the skills' monitoring blocks (``ecm-bot monitoring``).

Only ``otel.py`` imports opentelemetry and only ``prometheus.py`` imports prometheus_client
(tests/test_architecture.py). This package imports nothing else of the bot, so every layer
(db, stores, llm, runtime) may use it without an import cycle.
"""
