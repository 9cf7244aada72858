"""Tokens sent per model request by role, against the monolith, and the cost per triage run
and per field request at the configured prices. The fake Anthropic server on loopback reports
usage as the request's size / 4 characters and a reply at the narration cap, so the figures
are what the real prompts would cost (an upper bound on the output side)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_llm import FakeAnthropic, text, tool_use  # noqa: E402

from bot.agents.assistant import NARRATION_MAX_TOKENS, Assistant  # noqa: E402
from bot.briefing.builder import monolith_parts  # noqa: E402
from bot.briefing.tokens import estimate_tokens  # noqa: E402
from bot.demo.seed import seed_demo  # noqa: E402
from bot.runtime.dispatch import route  # noqa: E402
from bot.runtime.executor import execute  # noqa: E402
from bot.runtime.roster import Roster  # noqa: E402
from bot.skills.registry import Registry  # noqa: E402
from bot.stores.factory import open_stores  # noqa: E402

REPLY = {role: "x" * (cap * 4) for role, cap in NARRATION_MAX_TOKENS.items()}  # at the cap


def main() -> None:
    registry = Registry.load()
    mono = sum(p.tokens for p in monolith_parts(registry))
    with tempfile.TemporaryDirectory() as tmp, FakeAnthropic() as model:
        stores = open_stores(Path(tmp))
        seed_demo(Path(tmp), stores.workbook, orders=200)
        roster = Roster.load(stores.workbook)
        maya, sarah = (
            roster.resolve("maya.manager@example.com"),
            roster.resolve("sarah.ops@example.com"),
        )
        assistant = Assistant.from_env({"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": model.url})
        rows = []

        def measure(label, role, run):
            before = len(model.requests)
            run()
            for body in model.requests[before:]:
                sent = estimate_tokens(str(body))
                rows.append((label, role, sent))

        model.script(text(REPLY["manager"]))
        measure(
            "triage (narrated highlights)",
            "manager",
            lambda: execute(registry, stores, "triage-and-assign", maya, {}, assistant=assistant),
        )
        oid = next(
            r["Order ID"]
            for r in stores.workbook.read("Assignments")
            if r["Assigned Agent"] == sarah.email
        )
        model.script(text(REPLY["field"]))
        measure(
            "order-details (diagnosis)",
            "field",
            lambda: execute(
                registry, stores, "order-details", sarah, {"order_id": oid}, assistant=assistant
            ),
        )
        model.script(tool_use("activate_skill", {"skill": "my-tickets"}))
        measure(
            "free-text routing",
            "field",
            lambda: route(
                registry, stores, sarah, "what should I work on first?", assistant=assistant
            ),
        )
        model.script(tool_use("activate_skill", {"skill": "run-ecm"}))
        measure(
            "free-text routing",
            "manager",
            lambda: route(registry, stores, maya, "how are we doing?", assistant=assistant),
        )
        executions = {e["skill"]: e for e in stores.state.executions()}
        # by role: two runs in the same second sort by their random id, not by start
        routers = {
            e["role"]: e["cost"] for e in stores.state.executions() if e["skill"] == "agent-router"
        }
    print(f"Tokens sent per model request (est. 4 chars/token; monolith {mono} tokens)")
    for label, role, sent in rows:
        print(f"  {role:<8} {label:<30} {sent:>6}  ({100 * sent / mono:4.1f}% of the monolith)")
    triage = executions["triage-and-assign"]["cost"]
    field = executions["order-details"]["cost"]
    print("Cost at the configured prices (shared/config/llm-prices.yaml)")
    print(
        f"  per triage run (claude-sonnet-5-5)      ${triage:.4f}  (target ≤ $0.05; budget $0.50)"
    )
    print(
        f"  per field request (claude-haiku-5-5)    ${field:.4f}  (target ≤ $0.005; budget $0.02)"
    )
    print(
        f"  per free-text routing call              field ${routers['field']:.4f}, "
        f"manager ${routers['manager']:.4f}"
    )


if __name__ == "__main__":
    main()
