"""The model catalog (shared/config/model-lifecycle.yaml): each known model's provider, where
it stands in its provider's lifecycle, what the API accepts for it, and the source of each
fact. Loaded strictly (unknown fields refused, one error naming the file and field).

``request_options(model)`` tells the adapters what to send; ``assess`` turns a configured
model into findings for ``ecm-bot skills validate`` (warnings) and ``ecm-bot doctor``
(failures and warnings). No vendor SDK is imported here: the SDKs' own model lists come from
the adapters (``known_models()``) and are passed in."""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import SkillConfigError
from bot.paths import CONFIG_DIR
from bot.yaml_safe import parse_yaml

CATALOG_FILE = CONFIG_DIR / "model-lifecycle.yaml"
WARN_DAYS = 60  # Anthropic gives at least 60 days' notice before a retirement
SLOT_PROVIDER = {"primary": "anthropic", "fallback": "openai"}  # see bot/llm/pair.py

Provider = Literal["anthropic", "openai"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ModelRecord(_Strict):
    provider: Provider
    status: Literal["active", "legacy", "deprecated", "retired"]
    retires: date | None = None
    sampling: bool = True
    effort: Literal["none", "low", "medium", "high", "xhigh", "max"] | None = None
    tools: bool = True
    source: str = Field(pattern=r"^https://")
    checked: date
    note: str = ""


class Catalog(_Strict):
    models: dict[str, ModelRecord]

    def get(self, model: str) -> ModelRecord | None:
        return self.models.get(model)


@functools.lru_cache(maxsize=8)
def _load(path: Path, mtime: float) -> Catalog:
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SkillConfigError(path, f"not valid YAML: {exc}") from exc
    try:
        return Catalog.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        msg = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise SkillConfigError(path, f"field '{where}': {msg}") from None


def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    """The catalog, parsed once per modification of the file."""
    return _load(path, path.stat().st_mtime)


@dataclass(frozen=True)
class RequestOptions:
    """What an adapter sends for a model: the temperature or not, and an effort level."""

    sampling: bool = True
    effort: str | None = None


def request_options(model: str, path: Path = CATALOG_FILE) -> RequestOptions:
    """The catalog's request facts for ``model``; a model it does not know is sent as
    configured (temperature included, no effort)."""
    try:
        record = load_catalog(path).get(model)
    except (OSError, SkillConfigError):
        record = None
    if record is None:
        return RequestOptions()
    return RequestOptions(sampling=record.sampling, effort=record.effort)


@dataclass(frozen=True)
class Finding:
    """One thing found about a configured model: wrong (fail), worth knowing (warn), or a
    provider's confirmation (ok)."""

    level: Literal["fail", "warn", "ok"]
    message: str


def lifecycle_findings(
    model: str, record: ModelRecord | None, today: date, warn_days: int = WARN_DAYS
) -> list[Finding]:
    """What the catalog says about ``model`` as of ``today``."""
    if record is None:
        return [Finding("warn", f"no lifecycle record in {CATALOG_FILE.name}")]
    found: list[Finding] = []
    where = f"(source {record.source}, checked {record.checked})"
    if record.status == "retired" or (record.retires and record.retires <= today):
        when = f" on {record.retires}" if record.retires else ""
        found.append(Finding("fail", f"retired{when} {where}"))
    elif record.retires and record.retires <= today + timedelta(days=warn_days):
        days = (record.retires - today).days
        found.append(Finding("warn", f"retires on {record.retires}, in {days} days {where}"))
    elif record.status == "deprecated":
        found.append(Finding("warn", f"deprecated, no retirement date yet {where}"))
    if not record.tools:
        found.append(Finding("fail", f"cannot call tools through the API this bot uses {where}"))
    return found


def assess(
    model: str,
    slot: str,
    sdk_models: Collection[str],
    sdk_name: str,
    today: date,
    catalog: Catalog | None = None,
    warn_days: int = WARN_DAYS,
) -> list[Finding]:
    """Findings for ``model`` configured as a skill's ``slot`` (primary: Anthropic, fallback:
    OpenAI): a catalog that names another provider, a model the installed SDK does not list,
    a retired or soon-retiring model, one that cannot call tools."""
    catalog = catalog if catalog is not None else load_catalog()
    provider = SLOT_PROVIDER[slot]
    record = catalog.get(model)
    found: list[Finding] = []
    if record is not None and record.provider != provider:
        found.append(
            Finding(
                "fail",
                f"is an {record.provider} model, but model.{slot} is always sent to {provider}",
            )
        )
    if model not in sdk_models:
        found.append(Finding("fail", f"unknown to the installed {sdk_name}"))
    return found + lifecycle_findings(model, record, today, warn_days)
