"""The Slack adapter: a Bolt app that routes mentions, /ecm, DMs, buttons and App Home to the
caller's role's agent through bot.runtime. The only place that imports slack_bolt/slack_sdk."""
