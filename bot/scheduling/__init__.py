"""Scheduled skill runs from the manager skills' cron triggers."""
