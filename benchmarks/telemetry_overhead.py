"""What metrics and traces cost a skill run: ``execute`` of a field read (my-tickets), a field
read with the warehouse (order-details) and a manager triage (200 orders), on the embedded
store, with telemetry off (the default no-ops), Prometheus counters on, OpenTelemetry tracing
on (a BatchSpanProcessor to an exporter that drops the spans: the work of recording them, not
of the network), and both. Modes are interleaved run by run; medians per run. Then the cost of
one ``/metrics`` scrape (business gauges from the database) on the demo data and with
1,000,000 executions of history.

Run: .venv/bin/python benchmarks/telemetry_overhead.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from wsgiref.util import setup_testing_defaults

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import bulk_executions as bulk  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from bot.demo.seed import seed_demo  # noqa: E402
from bot.gauges import metrics_app  # noqa: E402
from bot.observability import metrics, prometheus, tracing  # noqa: E402
from bot.observability.otel import OtelTracer  # noqa: E402
from bot.runtime.executor import execute  # noqa: E402
from bot.runtime.roster import Roster  # noqa: E402
from bot.skills.registry import Registry  # noqa: E402
from bot.stores.factory import open_stores  # noqa: E402

ROUNDS = {"my-tickets": 300, "order-details": 300, "triage-and-assign": 60}


class Dropped(SpanExporter):
    def export(self, spans):
        return SpanExportResult.SUCCESS


def modes() -> dict[str, Callable[[], None]]:
    tracer = OtelTracer.with_processor(BatchSpanProcessor(Dropped()))

    def use(metrics_on: bool, tracing_on: bool) -> Callable[[], None]:
        def switch() -> None:
            metrics.install(prometheus.RECORDER if metrics_on else None)
            tracing.install(tracer if tracing_on else None)

        return switch

    return {
        "off": use(False, False),
        "metrics": use(True, False),
        "tracing": use(False, True),
        "both": use(True, True),
    }


def scrape_ms(app, n: int = 20) -> float:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ["PATH_INFO"] = "/metrics"
    b"".join(app(environ, lambda status, headers: None))  # warm: imports, connection
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        b"".join(app(environ, lambda status, headers: None))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    registry = Registry.load()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        import os

        os.environ["ECM_DATA_DIR"] = tmp
        stores = open_stores(path, env={})
        seed_demo(path, stores.workbook, orders=200, seed=7)
        roster = Roster.load(stores.workbook)
        maya = roster.resolve("maya.manager@example.com")
        sarah = roster.resolve("sarah.ops@example.com")
        execute(registry, stores, "triage-and-assign", maya, {})
        oid = next(
            r["Order ID"]
            for r in stores.workbook.read("Assignments")
            if r["Assigned Agent"] == sarah.email and r["Status"] == "ASSIGNED"
        )
        runs = {
            "my-tickets": (sarah, {}),
            "order-details": (sarah, {"order_id": oid}),
            "triage-and-assign": (maya, {}),
        }
        switches = modes()
        print("Telemetry overhead per skill run (median ms; embedded SQLite, 200 orders)")
        print(f"  {'skill':<18}" + "".join(f"{m:>10}" for m in switches))
        for skill, (member, args) in runs.items():
            times: dict[str, list[float]] = {m: [] for m in switches}
            for _ in range(ROUNDS[skill]):
                for mode, switch in switches.items():
                    switch()
                    t0 = time.perf_counter()
                    execute(registry, stores, skill, member, args)
                    times[mode].append((time.perf_counter() - t0) * 1000)
            medians = {m: statistics.median(t) for m, t in times.items()}
            print(f"  {skill:<18}" + "".join(f"{medians[m]:>10.2f}" for m in switches))
        switches["off"]()
        app = metrics_app(registry)
        print(f"\n/metrics scrape (median of 20): demo data {scrape_ms(app):.1f} ms", end="")
        bulk.load_sqlite(stores.db.path, 1_000_000, seed=3)
        bulk.analyze(stores.db)
        print(f"; with 1,000,000 executions {scrape_ms(app):.1f} ms")


if __name__ == "__main__":
    main()
