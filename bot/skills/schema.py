"""The strict schema of a skill's aspora.config.yaml (pydantic, unknown fields forbidden)."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ENTRY_POINT_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
TABS = ("Agents", "Assignments", "Resolutions", "Escalations")
STATUSES = ("ASSIGNED", "IN_PROGRESS", "WAITING", "RESOLVED", "ESCALATED", "CLOSED")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SkillSection(Strict):
    name: str = Field(max_length=64)
    domain: Literal["ecm"]
    role: Literal["manager", "field"]
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    description: str = Field(min_length=1, max_length=1024)
    title: str = Field(default="", max_length=40)
    """What people call it, for refusals in plain words ("Triage")."""
    help: str = Field(default="", max_length=200)
    """What it does for the person asking, for help ("your open tickets, most urgent first")."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError("must be lowercase letters, digits and single hyphens")
        return value


class Runtime(Strict):
    entry_point: str = Field(pattern=ENTRY_POINT_RE.pattern)
    timeout: int = Field(gt=0, le=900)


class CostBudget(Strict):
    max_per_execution: float = Field(gt=0)
    monthly_limit: float = Field(gt=0)


class ModelSection(Strict):
    primary: str = Field(min_length=1)
    fallback: str = Field(min_length=1)
    temperature: float = Field(ge=0, le=2)
    max_tokens: int = Field(gt=0, le=200_000)
    cost_budget: CostBudget


class Cron(Strict):
    schedule: str
    timezone: str

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"'{value}' is not a valid cron expression")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone '{value}'") from exc
        return value


class Patterns(Strict):
    patterns: list[str] = Field(min_length=1)


class Trigger(Strict):
    cron: Cron | None = None
    command: Patterns | None = None
    message: Patterns | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Trigger:
        kinds = [k for k in ("cron", "command", "message") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("each trigger has exactly one of cron, command or message")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("cron", "command", "message") if getattr(self, k) is not None)

    @property
    def text_patterns(self) -> list[str]:
        """The command or message patterns (none for a cron trigger)."""
        text = self.command or self.message
        return text.patterns if text else []


class TabAccess(Strict):
    read: Literal["all", "own", "none"]
    write: Literal["all", "own", "none"]
    statuses: list[Literal[STATUSES]] | None = None  # type: ignore[valid-type]


class Permissions(Strict):
    tools: list[str]
    apis: list[Literal["warehouse", "workbook", "slack", "llm"]]
    shared_resources: list[str]
    blocked_resources: list[str]
    sheets_access: dict[Literal[TABS], TabAccess] | None = None  # type: ignore[valid-type]


AlertChannelName = Literal["slack", "pagerduty"]


class Monitoring(Strict):
    """The skill's thresholds, evaluated by the alert pass (``bot/alerts``) over a rolling
    window of its executions, and where its alerts go."""

    success_rate_threshold: float = Field(
        ge=0, le=1, description="A fraction: a lower share of ok runs in the window alerts."
    )
    latency_p95_threshold: float = Field(
        gt=0, description="Seconds: a p95 run duration above it in the window alerts."
    )
    alert_on_failure: bool = Field(description="A failed run (outcome error) alerts.")
    alert_channels: list[AlertChannelName] = Field(
        default_factory=lambda: list[AlertChannelName](["slack"]),
        description="Where its alerts go: slack (ECM_ALERT_CHANNEL), pagerduty (Events API).",
    )
    window_minutes: int | None = Field(
        default=None,
        gt=0,
        le=10_080,
        description="Minutes of the rolling window; default ECM_ALERT_WINDOW_MINUTES or 60.",
    )
    min_runs: int = Field(
        default=5,
        gt=0,
        description="Runs the window needs before its success rate and p95 are judged.",
    )
    custom_metrics: list[str]


class ContextNeeds(Strict):
    """What one request of the skill needs in its context (progressive disclosure): whole
    files, files of which only the request's stuck-reason entry is given, and whether the
    order's runbook is included. Paths are relative to the project root (``shared/...``)."""

    files: list[str] = Field(default_factory=list)
    per_reason: list[str] = Field(default_factory=list)
    runbook: bool = False


class Narration(Strict):
    """What the model is asked to add to the skill's result (``bot/agents/narrate.py``):
    ``ask`` is the request; the result given to it is ``keys`` of the data (all when empty),
    or the output of a compactor named in ``compact`` (registered by name in narrate.py);
    ``reason`` lists dotted paths into the data, the first set one being the stuck reason
    whose entries the context includes."""

    ask: str = Field(min_length=1)
    compact: str | None = None
    keys: list[str] = Field(default_factory=list)
    reason: list[str] = Field(default_factory=list)


class Confirm(Strict):
    """The skill writes: a pick by the assistant becomes a proposal its owner confirms.
    ``proposal`` is the one-line confirmation text, a template over the run's arguments
    (``{order_id}``; ``!r`` quotes; a missing argument shows as ``?``)."""

    proposal: str = Field(min_length=1)


class Output(Strict):
    """What happens with a result: the presenter that turns it into a view for every surface
    (``view``: registered by name in ``bot/present``, or ``module:function``; none: the data
    as text), the Slack follow-ups run after it (registered by name in
    ``bot/slack/delivery.py``), whether the result itself is posted to the reply target,
    whether the run's orders are assignments that later field work joins (``assigns``), and
    how a scheduled run is posted to the triage channel (``publish``: the result's messages,
    or ``triage``: the summary with a thread per agent; ``bot/slack/posting.channel_publisher``)."""

    view: str | None = None
    follow_ups: list[str] = Field(default_factory=list)
    reply: bool = True
    assigns: bool = False
    publish: Literal["result", "triage"] = "result"


class Surfaces(Strict):
    """Which of the bot's own controls run the skill, so no module names it (asked of the
    registry, ``bot/skills/registry.py``): ``router``: the role's free-text router uses its
    model block and budget (``bot/agents/router.py``); ``home``: App Home shows its result
    for its role; ``cli``: the ``ecm-bot <name>`` shortcut; ``slack``: the Slack
    ``action_id`` and view ``callback_id`` values that run it (``bot/slack/listeners``).
    One skill per role for ``router`` and ``home``; a CLI or Slack name belongs to one skill."""

    router: bool = False
    home: bool = False
    cli: list[str] = Field(default_factory=list)
    slack: list[str] = Field(default_factory=list)


class PromotionRule(Strict):
    """When a candidate may become live. Shadow: at least ``min_runs`` shadow runs, each of
    the latest ``min_runs`` changing fewer than ``max_diff`` of the orders (agent or
    priority). Split: at least ``min_runs`` candidate runs in the window, its success rate at
    or above the skill's threshold and no more than the split's ``margin`` below the live
    version's. ``auto``: the canary pass promotes it as soon as the rule holds."""

    max_diff: float = Field(default=0.05, gt=0, le=1)
    min_runs: int = Field(default=3, gt=0, le=1000)
    auto: bool = False


class TrafficSplit(Strict):
    """A split candidate: ``share`` of callers (a sticky hash of the roster email) run it.
    It is rolled back, with an alert, when its success rate over ``window_minutes`` (from
    ``min_runs`` runs) falls below the skill's ``success_rate_threshold`` or more than
    ``margin`` below the live version's."""

    share: float = Field(default=0.1, gt=0, lt=1)
    margin: float = Field(default=0.05, ge=0, le=1)
    window_minutes: int = Field(default=60, gt=0, le=10_080)
    min_runs: int = Field(default=5, gt=0, le=10_000)


class Canary(Strict):
    """Only in a candidate's config (``<skill>/canary/aspora.config.yaml``): how it is
    released (``shadow``: beside every real run of the live version, on the same input, as a
    dry run; ``split``: a share of the requests), the shared files it reads its own copy of
    (``replaces``: project path → a file in the candidate's folder), and its promotion rule."""

    strategy: Literal["shadow", "split"]
    replaces: dict[str, str] = Field(default_factory=dict)
    promote: PromotionRule = Field(default_factory=PromotionRule)
    split: TrafficSplit = Field(default_factory=TrafficSplit)


class SkillConfig(Strict):
    """The whole aspora.config.yaml."""

    skill: SkillSection
    runtime: Runtime
    model: ModelSection
    triggers: list[Trigger]
    permissions: Permissions
    monitoring: Monitoring
    context: ContextNeeds = Field(default_factory=ContextNeeds)
    narrate: Narration | None = None
    confirm: Confirm | None = None
    output: Output = Field(default_factory=Output)
    surfaces: Surfaces = Field(default_factory=Surfaces)
    canary: Canary | None = None
    """A candidate's release settings; a live config never has them (``bot/skills/loader.py``)."""
