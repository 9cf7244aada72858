"""Shared resources as one running skill may see them: every load goes through its guard."""

from __future__ import annotations

from bot.access.guard import Guard
from bot.errors import InputError, NotFound
from bot.paths import CONFIG_DIR, QUERIES_DIR, RUNBOOKS_DIR
from bot.resources.files import QUERY_NAME_RE, REASON_RE, load_yaml


class Resources:
    """Shared resources as one running skill may see them: every load goes through its guard."""

    def __init__(self, guard: Guard):
        self.guard = guard

    def query_sql(self, name: str) -> str:
        if not QUERY_NAME_RE.match(name):
            raise InputError(f"'{name}' is not a query name.")
        return self.guard.read_text(QUERIES_DIR / f"{name}.sql")

    def _yaml(self, filename: str) -> dict:
        path = self.guard.check_resource(CONFIG_DIR / filename)
        return load_yaml(path)

    def stuck_reasons(self) -> dict[str, dict]:
        return self._yaml("stuck-reasons.yaml")["reasons"]

    def reason(self, code: str) -> dict:
        if not REASON_RE.match(code or ""):
            raise InputError(f"'{code}' is not a stuck-reason code.")
        try:
            return self.stuck_reasons()[code]
        except KeyError:
            raise NotFound(f"Unknown stuck reason '{code}'.") from None

    def knowledge(self, code: str) -> dict:
        self.guard.check_tool("read_knowledge_graph")
        return self._yaml("knowledge-graph.yaml")["reasons"].get(code, {})

    def runbook(self, code: str) -> str:
        self.guard.check_tool("load_runbook")
        if not REASON_RE.match(code or ""):
            raise InputError(f"'{code}' is not a stuck-reason code.")
        return self.guard.read_text(RUNBOOKS_DIR / f"{code}.md")

    def scoring(self) -> dict:
        return self._yaml("scoring.yaml")

    def patterns(self) -> dict:
        return self._yaml("patterns.yaml")
