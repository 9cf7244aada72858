"""The code behind each skill folder's ``runtime.entry_point``: ``run(ctx, **args) -> dict``.

Manager and field code live apart; field code never imports bot.triage (tests check it)."""
