"""Block Kit renderings of skill results, one module per kind of content: ``kit`` (limits,
escaping, paging, buttons), ``ticket`` (one ticket's line and buttons), ``manager`` (the triage
summary and agent threads) and ``field`` (the queue and order details). The modals and App Home
are in ``bot.slack.views``. Every text that comes from data is escaped."""
