"""OpenTelemetry traces: one span per skill execution carrying its workflow, so field work on a
ticket lands in the trace of the manager run that assigned it; database, warehouse and Sheets
calls as client spans inside it; model and tool calls by the GenAI conventions (no content);
OTLP export from a CLI run, and a no-op without an endpoint. Spans are read from the SDK's
in-memory exporter, installed through ``bot.observability.tracing.install``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import spawn
from conftest import MANAGER, SARAH, Demo
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from bot.demo.seed import seed_demo
from bot.errors import EcmError
from bot.observability import tracing
from bot.observability.otel import OtelTracer
from bot.stores.factory import open_stores

ECM_BOT = str(Path(sys.executable).parent / "ecm-bot")


@pytest.fixture
def spans():
    """Every span ended during the test, from an in-memory exporter."""
    exporter = InMemorySpanExporter()
    previous = tracing.install(OtelTracer.with_processor(SimpleSpanProcessor(exporter)))
    yield exporter
    tracing.install(previous)


def named(exporter: InMemorySpanExporter, prefix: str) -> list:
    return [s for s in exporter.get_finished_spans() if s.name.startswith(prefix)]


def children(exporter: InMemorySpanExporter, parent) -> list:
    return [
        s
        for s in exporter.get_finished_spans()
        if s.parent is not None and s.parent.span_id == parent.context.span_id
    ]


def test_field_work_on_a_ticket_lands_in_the_trace_of_the_triage_that_assigned_it(demo, spans):
    triage = demo.run(MANAGER, "triage-and-assign")
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    detail = demo.run(SARAH, "order-details", order_id=oid)
    assert detail.workflow_id == triage.workflow_id
    (manager,) = named(spans, "skill triage-and-assign")
    (field,) = named(spans, "skill order-details")
    assert manager.parent is None  # the triage starts the workflow's trace
    assert f"{manager.context.trace_id:032x}" == tracing.trace_id_of(triage.workflow_id)
    assert field.context.trace_id == manager.context.trace_id
    assert field.parent.span_id == manager.context.span_id  # under the run that assigned it
    assert field.attributes["ecm.workflow.id"] == triage.workflow_id
    assert field.attributes["ecm.parent.execution.id"] == triage.execution_id
    assert field.attributes["ecm.execution.id"] == detail.execution_id
    assert field.attributes["ecm.order.id"] == oid
    assert manager.attributes["ecm.role"] == "manager" and field.attributes["ecm.role"] == "field"
    assert manager.attributes["ecm.outcome"] == "ok"
    assert manager.status.status_code == StatusCode.UNSET


def test_a_run_outside_any_workflow_starts_its_own_trace(demo, spans):
    queue = demo.run(SARAH, "my-tickets")
    (span,) = named(spans, "skill my-tickets")
    assert span.parent is None
    assert f"{span.context.trace_id:032x}" == tracing.trace_id_of(queue.workflow_id)


def test_warehouse_and_database_calls_are_client_spans_inside_the_skill_span(demo, spans):
    demo.run(MANAGER, "triage-and-assign")
    (run,) = named(spans, "skill triage-and-assign")
    inside = children(spans, run)
    (warehouse,) = [s for s in inside if s.name == "warehouse ecm-pending-list"]
    assert warehouse.kind == SpanKind.CLIENT
    assert warehouse.attributes["db.system.name"] == "sqlite"
    assert warehouse.attributes["db.query.summary"] == "ecm-pending-list"
    assert warehouse.attributes["db.response.returned_rows"] == 120
    reads = [s for s in inside if s.attributes.get("db.operation.name") == "SELECT"]
    assert {"SELECT agents", "SELECT assignments"} <= {s.name for s in reads}
    assert all(s.attributes["db.system.name"] == "sqlite" for s in reads)
    orders = {r["Order ID"] for r in demo.rows("Assignments")}
    texts = [s.attributes["db.query.text"] for s in reads]
    assert not [t for t in texts if any(oid in t for oid in orders)]  # values bound, not inlined
    # a write transaction is one span, its statements counted, never a span per row
    (write,) = [
        s
        for s in inside
        if s.name == "transaction" and "INSERT assignments x1" in s.attributes["ecm.db.statements"]
    ]
    assert "INSERT audit_log x1" in write.attributes["ecm.db.statements"]
    assert write.attributes["db.operation.batch.size"] >= 2
    assert len(inside) < 30  # 120 orders triaged, a handful of spans


@pytest.fixture
def engine_demo(engine_env, tmp_path, registry) -> Demo:
    stores = open_stores(tmp_path, env=engine_env)
    seed_demo(tmp_path, stores.workbook, orders=30, seed=3)
    return Demo(tmp_path, registry, stores)


def test_statements_name_the_engine_of_the_system_of_record(engine_demo, engine_env, spans):
    engine_demo.run(MANAGER, "run-ecm")
    (run,) = named(spans, "skill run-ecm")
    systems = {s.attributes.get("db.system.name") for s in children(spans, run)}
    expected = "postgresql" if "ECM_DATABASE_URL" in engine_env else "sqlite"
    assert expected in systems


def test_background_statements_outside_a_unit_of_work_make_no_spans(demo, spans):
    demo.stores.state.first_time("event-1")  # e.g. the Slack redelivery check
    demo.stores.db.query("SELECT 1 AS one")
    assert spans.get_finished_spans() == ()


def test_a_refused_run_says_so_and_a_crashed_run_is_an_error(demo, spans):
    with pytest.raises(EcmError):
        demo.run(SARAH, "order-details", order_id="not-an-order")
    (refused,) = named(spans, "skill order-details")
    assert refused.attributes["ecm.outcome"] == "refused"
    assert refused.status.status_code == StatusCode.UNSET  # a user's mistake, not a fault
    (demo.path / "warehouse.db").write_bytes(b"this is not a database" * 100)
    demo.stores.warehouse.close()
    with pytest.raises(Exception, match="not a database"):
        demo.run(MANAGER, "triage-and-assign")
    (crashed,) = named(spans, "skill triage-and-assign")
    assert crashed.attributes["ecm.outcome"] == "error"
    assert crashed.status.status_code == StatusCode.ERROR
    assert crashed.attributes["error.type"] == "DatabaseError"


@pytest.fixture
def llm():
    from fake_llm import FakeAnthropic

    from bot.agents.assistant import Assistant

    anthropic = FakeAnthropic().start()
    env = {"ANTHROPIC_API_KEY": "test-a", "ANTHROPIC_BASE_URL": anthropic.url}
    yield anthropic, Assistant.from_env(env, notify=lambda message: None)
    anthropic.stop()


def test_model_and_tool_calls_follow_the_genai_conventions_without_content(triaged, llm, spans):
    from fake_llm import text, tool_use

    from bot.runtime.dispatch import route
    from bot.runtime.roster import Roster

    anthropic, assistant = llm
    ticket = triaged.tickets_of(SARAH)[0]
    anthropic.script(
        tool_use("load_runbook", {"reason": ticket["Stuck Reason"]}),
        text("Replay the webhook first; the partner paid out."),
    )
    sarah = Roster.load(triaged.stores.workbook).resolve(SARAH)
    reply = route(
        triaged.registry,
        triaged.stores,
        sarah,
        f"order {ticket['Order ID']}",
        assistant=assistant,
    )
    assert reply.result.data["narrative"].startswith("Replay the webhook")
    (run,) = named(spans, "skill order-details")
    chats = named(spans, "chat ")
    assert len(chats) == 2 and all(c.parent.span_id == run.context.span_id for c in chats)
    chat, model = chats[0], triaged.registry.get("order-details").config.model.primary
    assert chat.name == f"chat {model}" and chat.kind == SpanKind.CLIENT
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    assert chat.attributes["gen_ai.provider.name"] == "anthropic"
    assert chat.attributes["gen_ai.request.model"] == model
    assert chat.attributes["gen_ai.usage.input_tokens"] > 0
    assert chat.attributes["gen_ai.usage.output_tokens"] > 0
    assert chat.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    (tool,) = named(spans, "execute_tool ")
    assert tool.name == "execute_tool load_runbook"
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "load_runbook"
    assert tool.attributes["ecm.tool.allowed"] is True
    assert tool.parent.span_id == run.context.span_id
    assert run.attributes["gen_ai.usage.input_tokens"] > 0  # the run's total, too
    # content stays off: no prompt, message, runbook or narrative text in any span
    for span in spans.get_finished_spans():
        for key, value in span.attributes.items():
            assert "message" not in key and "content" not in key, key
            assert "Replay the webhook" not in str(value) and "Unstick it" not in str(value)


def test_a_sheet_sync_cycle_is_a_trace_of_its_sheets_and_database_calls(triaged, spans):
    from fake_sheets import FakeSheets

    from bot.stores.sheets_grid import SheetsGrid
    from bot.sync.sheets_sync import SheetSync

    with FakeSheets() as fake:
        fake.add_workbook_tabs()
        grid = SheetsGrid.from_env(fake.env(), backoff_factor=0.01, retries=2)
        assert SheetSync(triaged.stores, grid).run_once().skipped is None
    (cycle,) = named(spans, "sheets sync")
    assert cycle.parent is None and cycle.attributes["ecm.sync.pushed"] > 0
    inside = children(spans, cycle)
    sheets = [s for s in inside if s.name.startswith("sheets ")]
    assert [s.name for s in sheets] == ["sheets read", "sheets write"]  # one read, one write
    assert all(s.kind == SpanKind.CLIENT for s in sheets)
    assert sheets[0].attributes["ecm.sheets.request"].startswith("read tabs ")
    assert any(s.attributes.get("db.system.name") == "sqlite" for s in inside)


class _Collector(BaseHTTPRequestHandler):
    posts: list[tuple[str, str, bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.posts.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    """A tiny OTLP/HTTP receiver on loopback that keeps every POST."""
    handler = type("Collector", (_Collector,), {"posts": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    ).start()
    yield f"http://127.0.0.1:{server.server_port}", handler.posts
    server.shutdown()
    server.server_close()


def _env(demo, **more) -> dict:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ECM_", "SLACK_"))}
    return {**keep, "ECM_DATA_DIR": str(demo.path), **more}


def test_a_cli_run_posts_its_spans_to_the_otlp_endpoint_before_it_exits(triaged, collector):
    url, posts = collector
    env = _env(triaged, OTEL_EXPORTER_OTLP_ENDPOINT=url, OTEL_SERVICE_NAME="ecm-test")
    done = spawn.run(
        [ECM_BOT, "chat", "--as", SARAH, "my tickets"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    traces = [p for p in posts if p[0] == "/v1/traces"]
    assert traces, posts
    assert traces[0][1] == "application/x-protobuf"
    request = ExportTraceServiceRequest()
    request.ParseFromString(traces[0][2])
    (resource,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "ecm-test"
    exported = [s for scope in resource.scope_spans for s in scope.spans]
    (run,) = [s for s in exported if s.name == "skill my-tickets"]
    attributes = {a.key: a.value.string_value for a in run.attributes}
    assert attributes["ecm.workflow.id"] and attributes["ecm.outcome"] == "ok"
    assert run.trace_id.hex() == tracing.trace_id_of(attributes["ecm.workflow.id"])


def test_without_an_endpoint_tracing_is_a_no_op_and_loads_no_sdk(triaged):
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from bot.cli import load_commands\n"
        f"r = CliRunner().invoke(load_commands(), ['chat', '--as', {SARAH!r}, 'my tickets'])\n"
        "assert r.exit_code == 0, r.output\n"
        "from bot.observability import tracing\n"
        "loaded = [m for m in sys.modules if m.startswith('opentelemetry')]\n"
        "print(tracing.installed(), loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(triaged), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None []"
