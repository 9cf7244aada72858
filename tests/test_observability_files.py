"""The ready-made monitoring in deploy/monitoring/ stays what the code builds from the skills'
monitoring blocks (``ecm-bot monitoring rules`` / ``dashboard``), has the shape Prometheus
and Grafana read, and names only metrics the bot exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.cli import load_commands
from bot.gauges import HELP
from bot.observability import metrics, prometheus
from bot.yaml_safe import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "monitoring" / "ecm-alert-rules.yaml"
DASHBOARD = ROOT / "deploy" / "monitoring" / "ecm-dashboard.json"
DURATION = re.compile(r"^\d+[smhd]$")
METRIC = re.compile(r"\b(ecm_[a-z0-9_]+)")


def printed(*args: str) -> str:
    result = CliRunner().invoke(load_commands(), ["monitoring", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "path, command",
    [(RULES, "rules"), (DASHBOARD, "dashboard")],
    ids=["alert-rules", "dashboard"],
)
def test_the_committed_file_is_what_the_command_prints(path, command):
    assert path.read_text(encoding="utf-8") == printed(command), (
        f"{path.relative_to(ROOT)} is stale: run "
        f"`ecm-bot monitoring {command} > {path.relative_to(ROOT)}`"
    )


def family(name: str) -> str:
    """The metric family of a series name (a histogram's _bucket, _count and _sum)."""
    for suffix in ("_bucket", "_count", "_sum"):
        if name.endswith(suffix) and name[: -len(suffix)] in metrics.HISTOGRAMS:
            return name[: -len(suffix)]
    return name


def test_every_declared_metric_is_exposed_by_the_adapter_or_the_gauges():
    exposed = set()
    for fam in text_string_to_metric_families(generate_latest(prometheus.REGISTRY).decode()):
        exposed.add(fam.name + ("_total" if fam.type == "counter" else ""))
    assert exposed >= metrics.COUNTERS | metrics.HISTOGRAMS
    assert set(HELP) == metrics.GAUGES
    for name in metrics.NAMES:
        assert re.fullmatch(r"ecm_[a-z0-9_]+", name), name
        assert name in metrics.GAUGES or name.endswith(("_total", "_seconds")), name


def test_the_alert_rules_have_the_shape_prometheus_loads(registry):
    document = parse_yaml(RULES.read_text(encoding="utf-8"))
    assert set(document) == {"groups"}
    names = [g["name"] for g in document["groups"]]
    assert len(names) == len(set(names)) and names == ["ecm-platform", "ecm-skills"]
    seen: dict[str, set[str]] = {}
    for group in document["groups"]:
        assert set(group) == {"name", "rules"} and group["rules"]
        for rule in group["rules"]:
            assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule
            assert re.fullmatch(r"Ecm[A-Za-z0-9]+", rule["alert"])
            assert DURATION.match(rule["for"]), rule["for"]
            assert rule["labels"]["severity"] in ("critical", "warning")
            assert all(isinstance(v, str) for v in rule["labels"].values())
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]
            expr = rule["expr"]
            assert expr.count("(") == expr.count(")") and expr.count("[") == expr.count("]")
            for name in METRIC.findall(expr):
                assert family(name) in metrics.NAMES, name
            if "skill" in rule["labels"]:
                assert f'skill="{rule["labels"]["skill"]}"' in expr
                seen.setdefault(rule["labels"]["skill"], set()).add(rule["alert"])
    assert set(seen) == {s.name for s in registry}
    for skill in registry:
        mon = skill.config.monitoring
        wanted = {"EcmSkillSuccessRateLow", "EcmSkillLatencyP95High"}
        assert seen[skill.name] == wanted | ({"EcmSkillFailed"} if mon.alert_on_failure else set())


def test_the_rules_use_each_skills_thresholds_and_page_where_it_pages(registry):
    rules = {
        (r["labels"].get("skill"), r["alert"]): r
        for g in parse_yaml(RULES.read_text(encoding="utf-8"))["groups"]
        for r in g["rules"]
    }
    for skill in registry:
        mon = skill.config.monitoring
        rate = rules[(skill.name, "EcmSkillSuccessRateLow")]
        assert f"< {mon.success_rate_threshold:g}\n" in rate["expr"]
        p95 = rules[(skill.name, "EcmSkillLatencyP95High")]
        assert f"> {mon.latency_p95_threshold:g}\n" in p95["expr"]
        assert mon.latency_p95_threshold in prometheus.BUCKETS  # the p95 is exact at the limit
        pages = "pagerduty" in getattr(mon, "alert_channels", ())
        assert rate["labels"]["severity"] == ("critical" if pages else "warning")
    triage = rules[("triage-and-assign", "EcmSkillFailed")]
    assert triage["labels"]["severity"] == "critical"  # a failed 07:00 triage pages someone
    assert rules[("my-tickets", "EcmSkillFailed")]["labels"]["severity"] == "warning"


def _exprs(panels: list[dict]):
    for panel in panels:
        yield from _exprs(panel.get("panels", []))
        for target in panel.get("targets", []):
            yield target["expr"]


def test_the_dashboard_has_three_tiers_and_names_only_metrics_that_exist():
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert board["uid"] and board["title"] and isinstance(board["schemaVersion"], int)
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert [r.split(" ")[0].rstrip(":") for r in rows] == ["Platform", "Domain", "Skill"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    titles = " ".join(p["title"] for p in board["panels"]).lower()
    for wanted in ("cost per day", "sla breaches by stuck reason", "sheet sync lag"):
        assert wanted in titles
    exprs = list(_exprs(board["panels"]))
    assert exprs
    used = {family(name) for expr in exprs for name in METRIC.findall(expr)}
    assert used <= metrics.NAMES, used - metrics.NAMES
    assert used == metrics.NAMES  # and it shows every one of them
    for panel in board["panels"]:
        assert {"h", "w", "x", "y"} == set(panel["gridPos"])
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24


def test_every_long_running_pod_is_annotated_for_scraping_on_its_port():
    deployments = [
        d
        for p in sorted((ROOT / "deploy" / "kubernetes").glob("*-deployment.yaml"))
        for d in yaml.safe_load_all(p.read_text(encoding="utf-8"))
        if d and d["kind"] == "Deployment"
    ]
    assert len(deployments) >= 3  # http, socket, sheets sync
    for deployment in deployments:
        template = deployment["spec"]["template"]
        notes = template["metadata"]["annotations"]
        (port,) = template["spec"]["containers"][0]["ports"]
        assert notes["prometheus.io/scrape"] == "true"
        assert int(notes["prometheus.io/port"]) == port["containerPort"]
        assert notes["prometheus.io/path"] == "/metrics"


def _series(skill: str, role: str, **labels: str) -> str:
    inner = {"domain": "ecm", "role": role, "skill": skill, "instance": "web-1", **labels}
    return "{" + ",".join(f'{k}="{v}"' for k, v in inner.items()) + "}"


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian: prometheus) absent")
def test_the_rules_fire_on_synthetic_series_as_prometheus_evaluates_them(tmp_path, registry):
    """Prometheus's own rule tester: a triage that fails half its runs pages (failure and
    success rate, critical), a slow one warns, and a field skill's failure does not page."""
    runs, secs = metrics.SKILL_EXECUTIONS, metrics.SKILL_DURATION
    triage, field = registry.get("triage-and-assign"), registry.get("my-tickets")
    labels = {"domain": "ecm", "role": "manager", "skill": triage.name}
    threshold = triage.config.monitoring.success_rate_threshold
    limit = triage.config.monitoring.latency_p95_threshold
    assert limit < 120  # the slow runs below all take between 60 and 120 s
    tests = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": runs + _series(triage.name, "manager", outcome="ok"),
                     "values": "0+1x60"},
                    {"series": runs + _series(triage.name, "manager", outcome="error"),
                     "values": "0+1x60"},
                    {"series": runs + _series(field.name, "field", outcome="error"),
                     "values": "0+1x60"},
                    {"series": f"{secs}_bucket" + _series(triage.name, "manager", le="60"),
                     "values": "0x60"},
                    {"series": f"{secs}_bucket" + _series(triage.name, "manager", le="120"),
                     "values": "0+2x60"},
                    {"series": f"{secs}_bucket" + _series(triage.name, "manager", le="+Inf"),
                     "values": "0+2x60"},
                    {"series": f"{secs}_count" + _series(triage.name, "manager"),
                     "values": "0+2x60"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "30m",
                        "alertname": "EcmSkillFailed",
                        "exp_alerts": [
                            {
                                "exp_labels": {**labels, "severity": "critical"},
                                "exp_annotations": _annotations("EcmSkillFailed", triage.name),
                            },
                            {
                                "exp_labels": {"domain": "ecm", "role": "field",
                                               "skill": field.name, "severity": "warning"},
                                "exp_annotations": _annotations("EcmSkillFailed", field.name),
                            },
                        ],
                    },
                    {
                        "eval_time": "30m",
                        "alertname": "EcmSkillSuccessRateLow",
                        "exp_alerts": [
                            {
                                "exp_labels": {**labels, "severity": "critical"},
                                "exp_annotations": _annotations(
                                    "EcmSkillSuccessRateLow", triage.name, value="50%"
                                ),
                            },
                        ],
                    },
                    {
                        "eval_time": "30m",
                        "alertname": "EcmSkillLatencyP95High",
                        "exp_alerts": [
                            {
                                "exp_labels": {**labels, "severity": "warning"},
                                "exp_annotations": _annotations(
                                    "EcmSkillLatencyP95High", triage.name, value="1m 57s"
                                ),
                            },
                        ],
                    },
                    {"eval_time": "2m", "alertname": "EcmSkillSuccessRateLow", "exp_alerts": []},
                ],
            }
        ],
    }  # fmt: skip
    assert threshold > 0.5
    path = tmp_path / "rules-test.yaml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    done = subprocess.run(
        ["promtool", "test", "rules", str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _annotations(alert: str, skill: str, value: str = "") -> dict:
    """The rule's annotations with ``$value`` rendered as ``value``."""
    (rule,) = [
        r
        for g in parse_yaml(RULES.read_text(encoding="utf-8"))["groups"]
        for r in g["rules"]
        if r["alert"] == alert and r["labels"].get("skill") == skill
    ]
    render = re.compile(r"\{\{ \$value \| \w+ \}\}")
    return {k: render.sub(value, v) for k, v in rule["annotations"].items()}
