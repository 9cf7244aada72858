"""Alerts: each skill's ``monitoring`` thresholds over a rolling window, missed or failed cron
slots (a dead man's switch) and sheet-sync lag, raised once per subject and rule, delivered to
Slack and PagerDuty, and resolved when the figure is back within its threshold.

- ``rules.py``: what fires (pure functions over the evidence; one ``Finding`` per rule);
- ``evidence.py``: what the rules read from the system of record (indexed look-ups);
- ``store.py``: the alert tables (states, deliveries, history), conditional writes only;
- ``engine.py``: one pass (evaluate, open/update/resolve, deliver what is pending);
- ``channels.py``: the small interface a destination implements (``AlertChannel``);
- ``pagerduty.py``: the PagerDuty Events API v2 destination (plain HTTP). The Slack one is
  ``bot/slack/alerts.py``; ``bot/cli/alerts_cmd.py`` wires them from the environment.
"""
