"""Are the models the skills configure still the right ones? Each configured model (a skill's
``model.primary`` goes to Anthropic, ``model.fallback`` to OpenAI) is checked against the
installed SDK's model list and the lifecycle catalog (shared/config/model-lifecycle.yaml).
``ecm-bot skills validate`` prints the findings as warnings; ``ecm-bot doctor`` fails or
warns on them and, with a provider key, also asks the provider (``ask_provider``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.llm.catalog import SLOT_PROVIDER, WARN_DAYS, Finding, assess, load_catalog
from bot.llm.declared_models import declared_models

PROBE_TIMEOUT = 5.0  # seconds: doctor must answer quickly even when a provider does not


@dataclass
class ModelReport:
    """One configured model: who uses it, in which slot, and what was found."""

    model: str
    slot: str  # primary | fallback
    skills: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def provider(self) -> str:
        return SLOT_PROVIDER[self.slot]


def sdk_models(provider: str) -> tuple[frozenset[str], str]:
    """The installed SDK's model list for ``provider`` and the SDK's name and version: read
    from its source when it can be (``declared_models``), else from the imported SDK."""
    declared = declared_models(provider)
    if declared is not None:
        return declared
    if provider == "anthropic":
        from bot.llm.anthropic_model import known_models, sdk_name
    else:
        from bot.llm.openai_model import known_models, sdk_name
    return known_models(), sdk_name()


def configured(skills: Iterable) -> list[ModelReport]:
    """Every (model, slot) the skills name, with the skills naming it, in first-seen order."""
    reports: dict[tuple[str, str], ModelReport] = {}
    for skill in skills:
        for slot in ("primary", "fallback"):
            model = getattr(skill.config.model, slot)
            report = reports.setdefault((model, slot), ModelReport(model, slot))
            report.skills.append(skill.name)
    return list(reports.values())


def check_models(skills: Iterable, today: date) -> list[ModelReport]:
    """``configured(skills)`` with the SDK's and the catalog's findings filled in."""
    catalog = load_catalog()
    lists = {p: sdk_models(p) for p in ("anthropic", "openai")}
    reports = configured(skills)
    for report in reports:
        known, name = lists[report.provider]
        report.findings = assess(report.model, report.slot, known, name, today, catalog)
    return reports


def ask_provider(
    report: ModelReport, env: Mapping[str, str], today: date, timeout: float = PROBE_TIMEOUT
) -> list[Finding] | None:
    """Ask the provider whether it serves ``report.model`` (``client.models.retrieve``) with
    a short timeout, honouring ANTHROPIC_BASE_URL / OPENAI_BASE_URL. None when that
    provider's key is not set (nothing asked)."""
    from bot.llm.types import LlmUnavailable

    prefix = "ANTHROPIC" if report.provider == "anthropic" else "OPENAI"
    key = (env.get(f"{prefix}_API_KEY") or "").strip()
    if not key:
        return None
    base_url = env.get(f"{prefix}_BASE_URL") or None
    if report.provider == "anthropic":
        from bot.llm.anthropic_model import AnthropicModel

        lookup = AnthropicModel(api_key=key, base_url=base_url, timeout=timeout).lookup
    else:
        from bot.llm.openai_model import OpenAIModel

        lookup = OpenAIModel(api_key=key, base_url=base_url, timeout=timeout).lookup
    try:
        served = lookup(report.model)
    except LlmUnavailable as exc:
        return [Finding("fail", f"could not ask the provider: {exc}")]
    if served is None:
        return [Finding("fail", f"{report.provider} answers 404: it does not serve this model")]
    if served.lifecycle == "retired" or (served.retires and served.retires <= today):
        return [Finding("fail", f"{report.provider} says it is retired ({served.retires})")]
    if served.retires and served.retires <= today + timedelta(days=WARN_DAYS):
        return [Finding("warn", f"{report.provider} says it retires on {served.retires}")]
    if served.lifecycle == "deprecated":
        when = f", retiring on {served.retires}" if served.retires else ""
        return [Finding("warn", f"{report.provider} says it is deprecated{when}")]
    said = f" ({served.lifecycle})" if served.lifecycle else ""
    return [Finding("ok", f"served by {report.provider}{said}")]
