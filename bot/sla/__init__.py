"""Between triages: the SLA watch warns an assignee before a ticket's deadline, re-notifies a
breached P1/P2 that has not moved, then escalates it, each notice once across replicas
(``watch.py``; policy in shared/config/sla-policy.yaml, ``policy.py``)."""
