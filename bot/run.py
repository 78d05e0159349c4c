"""`python -m bot run`: start the configured channels."""

from __future__ import annotations

from bot.app import App


async def run(app: App) -> None:
    """Local console without tokens; otherwise the Telegram and Slack channels."""
    if app.settings.local_mode:
        from bot.channels.local import console_chat

        await console_chat(app, "lokaal")
        return
    raise SystemExit("Telegram and Slack channels are not available in this version.")
