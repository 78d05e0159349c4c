"""The Telegram channel (python-telegram-bot): updates in, outbox messages out."""

from bot.channels.telegram.channel import COMMANDS, TelegramChannel, webhook_secret

__all__ = ["COMMANDS", "TelegramChannel", "webhook_secret"]
