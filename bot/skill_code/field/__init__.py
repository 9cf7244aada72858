"""Field skills: my tickets, order details, resolve, escalate."""
