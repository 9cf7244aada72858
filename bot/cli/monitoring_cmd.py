"""``ecm-bot monitoring``: the ready-made Prometheus alert rules and Grafana dashboard, built
from the skills' monitoring blocks (``deploy/monitoring/`` holds their output)."""

from __future__ import annotations

import click

from bot.cli import cli


@cli.group()
def monitoring() -> None:
    """Prometheus alert rules and the Grafana dashboard, from the skills' monitoring blocks.

    Example: ecm-bot monitoring rules > deploy/monitoring/ecm-alert-rules.yaml
    """


@monitoring.command()
def rules() -> None:
    """Print the Prometheus alerting rules: each skill's success rate, p95 and failures
    against its thresholds, the database and the sheet sync.

    Example: ecm-bot monitoring rules > deploy/monitoring/ecm-alert-rules.yaml
    """
    from bot.observability.rules import rules_yaml
    from bot.skills.registry import Registry

    click.echo(rules_yaml(Registry.load()), nl=False)


@monitoring.command()
def dashboard() -> None:
    """Print the Grafana dashboard (JSON): platform, domain and role, skill; model cost per
    day, SLA breaches by reason, sheet sync lag.

    Example: ecm-bot monitoring dashboard > deploy/monitoring/ecm-dashboard.json
    """
    from bot.observability.dashboard import dashboard_json

    click.echo(dashboard_json(), nl=False)
