"""The Slack support desk (slack-bolt): escalation cards, buttons, thread relay, /weerbaar."""

from bot.channels.slack.desk import SlackDesk

__all__ = ["SlackDesk"]
