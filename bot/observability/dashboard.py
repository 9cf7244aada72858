"""The Grafana dashboard for the ECM bot, in three tiers (platform → domain and role → skill),
with model cost per day, SLA breaches by stuck reason and the sheet sync's lag.
``ecm-bot monitoring dashboard`` prints it; ``deploy/monitoring/ecm-dashboard.json`` is that
output (a test keeps the two equal and checks every metric it names exists).

Business gauges are reported alike by every replica, so panels take their ``max``; counters
are per process, so panels ``sum`` them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import count

from bot.observability import metrics
from bot.observability.rules import SYNC_LAG_LIMIT_SECONDS

DS = {"type": "prometheus", "uid": "${datasource}"}
RUNS = metrics.SKILL_EXECUTIONS
DURATION = metrics.SKILL_DURATION
SKILLS = 'skill=~"$skill"'


def _targets(*queries: tuple[str, str]) -> list[dict]:
    return [
        {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": chr(65 + i)}
        for i, (expr, legend) in enumerate(queries)
    ]


def _panel(kind: str, title: str, queries, unit: str = "short", **extra) -> dict:
    panel = {
        "type": kind,
        "title": title,
        "datasource": DS,
        "targets": _targets(*queries),
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
    }
    panel.update(extra)
    return panel


def _ratio(by: str, selector: str = "") -> str:
    inner = f"{{{selector}}}" if selector else ""
    ok_sel = f'{{{selector + "," if selector else ""}outcome="ok"}}'
    return (
        f"sum by ({by}) (rate({RUNS}{ok_sel}[$__rate_interval]))\n"
        f"/ sum by ({by}) (rate({RUNS}{inner}[$__rate_interval]))"
    )


def _p95(by: str, selector: str = "") -> str:
    inner = f"{{{selector}}}" if selector else ""
    group = f"le, {by}" if by else "le"
    return (
        f"histogram_quantile(0.95, sum by ({group}) "
        f"(rate({DURATION}_bucket{inner}[$__rate_interval])))"
    )


def _row(title: str) -> dict:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def panels() -> list[dict]:
    """The panels in order, rows included (positions are added by ``dashboard``)."""
    lag_steps = {
        "mode": "absolute",
        "steps": [
            {"color": "green", "value": None},
            {"color": "red", "value": SYNC_LAG_LIMIT_SECONDS},
        ],
    }
    return [
        _row("Platform: every skill"),
        _panel("stat", "Executions (1h)", [(f"sum(increase({RUNS}[1h]))", "runs")]),
        _panel("stat", "Success rate", [(_ratio("domain"), "{{domain}}")], "percentunit"),
        _panel("stat", "p95 duration", [(_p95(""), "p95")], "s"),
        _panel(
            "stat",
            "Open tickets",
            [(f"sum(max by (priority, status) ({metrics.OPEN_TICKETS}))", "open")],
        ),
        _panel(
            "stat", "SLA breaches", [(f"sum(max by (reason) ({metrics.SLA_BREACHES}))", "breaches")]
        ),
        _panel("stat", "Database up", [(f"min({metrics.DATABASE_UP})", "up")]),
        _panel(
            "timeseries",
            "Executions by outcome",
            [(f"sum by (outcome) (rate({RUNS}[$__rate_interval]))", "{{outcome}}")],
            "ops",
        ),
        _panel(
            "timeseries",
            "Model cost per day (USD)",
            [(f"sum by (skill) (increase({metrics.LLM_COST}[1d]))", "{{skill}}")],
            "currencyUSD",
            interval="1d",
        ),
        _panel(
            "timeseries",
            "Open tickets by priority",
            [
                (
                    f"sum by (priority) (max by (priority, status) ({metrics.OPEN_TICKETS}))",
                    "{{priority}}",
                )
            ],
        ),
        _panel(
            "bargauge",
            "SLA breaches by stuck reason",
            [(f"max by (reason) ({metrics.SLA_BREACHES}) > 0", "{{reason}}")],
        ),
        _panel(
            "timeseries",
            "SLA watch notices (1h)",
            [
                (
                    f'sum by (kind) (increase({metrics.SLA_NOTICES}{{state="sent"}}[1h]))',
                    "{{kind}}",
                ),
                (f'max({metrics.SLA_NOTICES}{{state="unsent"}})', "claimed, unsent"),
                (
                    f"max by (kind) (delta({metrics.HANDOVERS}[1h]))",
                    "handover {{kind}}",
                ),
            ],
        ),
        _panel(
            "timeseries",
            "Sheet sync lag",
            [(f"max({metrics.SYNC_LAG})", "lag"), (f"max({metrics.SYNC_FAILING})", "failing")],
            "s",
            fieldConfig={"defaults": {"unit": "s", "thresholds": lag_steps}, "overrides": []},
        ),
        _row("Domain and role"),
        _panel(
            "timeseries",
            "Executions by role",
            [(f"sum by (domain, role) (rate({RUNS}[$__rate_interval]))", "{{domain}}/{{role}}")],
            "ops",
        ),
        _panel(
            "timeseries",
            "Success rate by role",
            [(_ratio("domain, role"), "{{domain}}/{{role}}")],
            "percentunit",
        ),
        _panel("timeseries", "p95 by role", [(_p95("domain, role"), "{{domain}}/{{role}}")], "s"),
        _row("Skill ($skill)"),
        _panel(
            "timeseries",
            "Executions by skill and outcome",
            [
                (
                    f"sum by (skill, outcome) (rate({RUNS}{{{SKILLS}}}[$__rate_interval]))",
                    "{{skill}} {{outcome}}",
                )
            ],
            "ops",
        ),
        _panel(
            "timeseries",
            "Success rate by skill",
            [(_ratio("skill", SKILLS), "{{skill}}")],
            "percentunit",
        ),
        _panel("timeseries", "p95 by skill", [(_p95("skill", SKILLS), "{{skill}}")], "s"),
        _panel(
            "timeseries",
            "Executions by version (skills with a candidate)",
            [
                (
                    f"sum by (skill, version, track, outcome) "
                    f"(rate({metrics.SKILL_VERSION_EXECUTIONS}{{{SKILLS}}}[$__rate_interval]))",
                    "{{skill}} {{version}} {{track}} {{outcome}}",
                )
            ],
            "ops",
        ),
        _panel(
            "timeseries",
            "Model tokens by skill",
            [
                (
                    f"sum by (skill, model, kind) "
                    f"(rate({metrics.LLM_TOKENS}{{{SKILLS}}}[$__rate_interval]))",
                    "{{skill}} {{model}} {{kind}}",
                )
            ],
        ),
        _panel(
            "timeseries",
            "Model cost by skill (USD per hour)",
            [
                (
                    f"sum by (skill, model) (increase({metrics.LLM_COST}{{{SKILLS}}}[1h]))",
                    "{{skill}} {{model}}",
                )
            ],
            "currencyUSD",
        ),
        _panel(
            "table",
            "Custom metrics (latest value each skill reported)",
            [
                (
                    f"max by (skill, metric) ({metrics.CUSTOM_METRIC}{{{SKILLS}}})",
                    "{{skill}} {{metric}}",
                )
            ],
            targets_format="table",
        ),
    ]


def _positions(items: list[dict]) -> Iterator[dict]:
    """Rows span the width; stats are 4 wide, other panels 12, two per line."""
    ids, y, x, height = count(1), 0, 0, 0
    for item in items:
        item = {"id": next(ids), **item}
        if item["type"] == "row":
            y, x = y + height, 0
            item["gridPos"] = {"h": 1, "w": 24, "x": 0, "y": y}
            y, height = y + 1, 0
        else:
            w, h = (4, 4) if item["type"] == "stat" else (12, 8)
            if x + w > 24:
                y, x, height = y + height, 0, 0
            item["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
            x, height = x + w, max(height, h)
        fmt = item.pop("targets_format", None)
        if fmt:
            for target in item["targets"]:
                target["format"], target["instant"] = fmt, True
        yield item


def dashboard() -> dict:
    return {
        "title": "ECM bot",
        "uid": "ecm-bot",
        "description": "Exception Case Management bot: platform, domain and role, skill.",
        "tags": ["ecm", "ecm-bot"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                },
                {
                    "name": "skill",
                    "label": "Skill",
                    "type": "query",
                    "datasource": DS,
                    "query": {"query": f"label_values({RUNS}, skill)", "refId": "skills"},
                    "definition": f"label_values({RUNS}, skill)",
                    "refresh": 2,
                    "multi": True,
                    "includeAll": True,
                    "current": {"text": "All", "value": "$__all"},
                },
            ]
        },
        "panels": list(_positions(panels())),
    }


def dashboard_json() -> str:
    """The dashboard file's text (what ``ecm-bot monitoring dashboard`` prints)."""
    return json.dumps(dashboard(), indent=2) + "\n"
