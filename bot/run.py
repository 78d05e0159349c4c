"""`python -m bot run`: start the configured channels, the scheduler and the web server."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack

from aiohttp import web

from bot.app import App
from bot.features.aftercare import Upkeep
from bot.features.privacy import plan_retention
from bot.jobs.scheduler import Scheduler
from bot.store import deadletters

log = logging.getLogger("weerbaar.run")


async def run(app: App) -> None:
    """Local console without tokens; otherwise Telegram and/or Slack until SIGTERM or Ctrl-C."""
    settings = app.settings
    # Channels are imported only when configured: each pulls in its platform's SDK.
    if settings.local_mode:
        from bot.channels.local import console_chat

        await console_chat(app, "lokaal")
        return

    web_app = web.Application()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)

    async with AsyncExitStack() as stack:
        scheduler = Scheduler(app.store, settings, app.dialogue.features.jobs)
        await scheduler.start()
        stack.push_async_callback(scheduler.stop)

        async def healthz(request: web.Request) -> web.Response:
            # "active": this worker runs the scheduled jobs; "standby": another one does.
            role = "active" if scheduler.holds_lock else "standby"
            try:
                waiting: int | None = await asyncio.wait_for(deadletters.open_count(app.store), 5)
            except Exception:  # the store is away: say so, the worker itself is alive
                waiting = None
            status = "ok" if waiting == 0 else "degraded"
            return web.json_response(
                {
                    "status": status,
                    "scheduler": role,
                    "store": "unavailable" if waiting is None else "ok",
                    "dead_letters": waiting,
                }
            )

        web_app.router.add_get("/healthz", healthz)
        await plan_retention(scheduler)

        channels: list[object] = []
        if not settings.slack_bot_token:
            # The Slack desk plans aftercare jobs itself; without it, this loop does.
            upkeep = Upkeep(scheduler)
            upkeep.start()
            stack.push_async_callback(upkeep.stop)
        if settings.slack_bot_token:
            from bot.channels.slack import SlackDesk

            channels.append(SlackDesk(app, web_app, scheduler=scheduler))
        if settings.telegram_bot_token:
            from bot.channels.telegram import TelegramChannel

            channels.append(TelegramChannel(app, web_app))

        # Routes are all added: now serve /healthz and the webhooks.
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, port=settings.port).start()

        for channel in channels:
            await channel.start()  # type: ignore[attr-defined]
            stack.push_async_callback(channel.stop)  # type: ignore[attr-defined]
        log.info(
            "weerbaar running: %s; http on port %d",
            ", ".join(type(c).__name__ for c in channels),
            settings.port,
        )
        await stopping.wait()
        log.info("stopping")
