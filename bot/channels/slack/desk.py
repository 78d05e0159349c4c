"""The Slack support desk: transport (Socket Mode or HTTP), outbox delivery and the listeners."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.base.redaction import safe_trace
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.listeners import Handler, Listeners
from bot.channels.slack.team import Team
from bot.core.app import App
from bot.features import aftercare
from bot.features.support import escalation, promises
from bot.jobs.scheduler import Scheduler
from bot.store import OutboxMessage
from bot.store.outbox import deliver_due

log = logging.getLogger("weerbaar.slack")

EVENTS_PATH = "/slack/events"
# How often the delivery loop also checks the promises made to reporters (two queries): the
# checks are about minutes, the rounds come every second.
PROMISES_EVERY = 15.0
POSTS_AT_ONCE = 8  # support payloads of different cases on their way to Slack side by side
SLACK_API = "https://slack.com/api/"


def _routable(body: object) -> bool:
    """Whether a body has the shape slack-bolt assumes when it routes it (Slack's always has)."""
    if not isinstance(body, dict) or not isinstance(body.get("event", {}), dict):
        return False
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        return isinstance(actions, list) and bool(actions) and isinstance(actions[0], dict)
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        return isinstance(view, dict) and isinstance(view.get("type"), str)
    return True


class SlackDesk:
    """Where the support team works: cards, buttons, thread relay and /weerbaar in Slack."""

    def __init__(
        self,
        app: App,
        web_app: web.Application | None = None,
        *,
        scheduler: Scheduler | None = None,
        http_timeout: float = 10.0,
        poll_seconds: float | None = 1.0,
        ping_interval: float = 10.0,
    ) -> None:
        settings = app.settings
        if not settings.slack_bot_token or not settings.slack_support_channel:
            raise ValueError("SlackDesk needs SLACK_BOT_TOKEN and SLACK_SUPPORT_CHANNEL")
        self.app = app
        self.socket_mode = bool(settings.slack_app_token)
        self.http_timeout = http_timeout
        self.poll_seconds = poll_seconds  # None: no delivery loop; call deliver() yourself
        self._promises_checked = -PROMISES_EVERY  # time.monotonic() of the last check
        self.ping_interval = ping_interval
        base_url = (settings.slack_api_base_url or SLACK_API).rstrip("/") + "/"
        self.client = AsyncWebClient(
            token=settings.slack_bot_token,
            base_url=base_url,
            timeout=int(max(1, http_timeout)),
            retry_handlers=[],  # the outbox retries, with backoff
        )
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "",
            request_verification_enabled=not self.socket_mode,
            logger=logging.getLogger("weerbaar.slack.bolt"),
        )
        self._owns_scheduler = scheduler is None
        self.scheduler = scheduler or Scheduler(app.store, settings, app.dialogue.features.jobs)
        self.team = Team(self.client, settings.slack_support_channel)
        self.delivery = Delivery(self.client, app.store, settings, self.scheduler)
        Listeners(app.store, settings, self.scheduler, self.team).register(self.bolt, self._tracked)
        self._own_web: web.Application | None = None
        if not self.socket_mode:
            if web_app is None:
                web_app = self._own_web = web.Application()
            web_app.router.add_post(EVENTS_PATH, self._on_request)
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._wake = asyncio.Event()
        self._wake_key = f"wake_slack_desk_{id(self)}"
        self._session: aiohttp.ClientSession | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._upkeep = aftercare.Upkeep(self.scheduler)

    async def start(self) -> None:
        """Connect to Slack and start delivering what the outbox holds for the team."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.http_timeout)
        )
        self.client.session = self._session  # one connection pool instead of one per call
        if self._owns_scheduler:
            await self.scheduler.start()
        await escalation.rewatch(self.scheduler)
        sessions = self.app.store.session_class
        event.listen(sessions, "after_flush", self._note_support_message)
        event.listen(sessions, "after_commit", self._wake_on_commit)
        if self.poll_seconds is not None:
            self._loop_task = asyncio.create_task(self._deliver_loop())
            # Check-ins, owners' reminders and the digest are planned where the desk runs.
            self._upkeep.start()
        if self.socket_mode:
            self._socket = AsyncSocketModeHandler(
                self.bolt,
                self.app.settings.slack_app_token,
                web_client=self.client,
                ping_interval=self.ping_interval,
            )
            await self._socket.connect_async()
        elif self._own_web is not None:
            self._runner = web.AppRunner(self._own_web)
            await self._runner.setup()
            await web.TCPSite(self._runner, port=self.app.settings.port).start()
        log.info("slack desk started (%s)", "socket mode" if self.socket_mode else "http")

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        await self._upkeep.stop()
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.settled()
        for name, listener in (
            ("after_flush", self._note_support_message),
            ("after_commit", self._wake_on_commit),
        ):
            if event.contains(self.app.store.session_class, name, listener):
                event.remove(self.app.store.session_class, name, listener)
        if self._owns_scheduler:
            await self.scheduler.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, *, promises_too: bool = True) -> int:
        """One round of delivery to the team; returns how many payloads went out.

        First (unless told not to) the reporters whose request has no card, or no answer, in
        time hear so.
        """
        if promises_too:
            try:
                await promises.keep(self.app.store, self.app.settings, self.app.knowledge)
            except Exception as error:
                log.error("telling reporters about late escalations failed: %s", safe_trace(error))
        return await deliver_due(
            self.app.store, "support", self.delivery.send, at_once=POSTS_AT_ONCE
        )

    async def settled(self) -> None:
        """Wait until every Slack interaction that has started is handled."""
        await self._idle.wait()

    async def _deliver_loop(self) -> None:
        while True:
            self._wake.clear()
            due = time.monotonic() - self._promises_checked >= PROMISES_EVERY
            if due:
                self._promises_checked = time.monotonic()
            try:
                await self.deliver(promises_too=due)
            except Exception as error:
                log.error("support delivery round failed: %s", safe_trace(error))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _on_request(self, request: web.Request) -> web.Response:
        """HTTP mode: events, interactivity and the slash command all arrive here."""
        try:
            bolt_request = await to_bolt_request(request)
        except Exception:  # a body slack-bolt cannot even parse: refuse it, do not crash
            log.warning("refused an unreadable Slack request")
            return web.Response(status=400, text="bad request")
        if not _routable(bolt_request.body):
            log.warning("refused a Slack request with a malformed body")
            return web.Response(status=400, text="bad request")
        response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    def _tracked(self, handler: Handler) -> Handler:
        """Count a listener while it runs, so settled() can wait for it."""

        @functools.wraps(handler)
        async def run(*args: Any, **kwargs: Any) -> Any:
            self._running += 1
            self._idle.clear()
            try:
                return await handler(*args, **kwargs)
            finally:
                self._running -= 1
                if not self._running:
                    self._idle.set()

        return run

    # A new escalation or note should not wait for the next round: commit wakes the loop.

    def _note_support_message(self, session: Session, _context: Any) -> None:
        if any(isinstance(o, OutboxMessage) and o.destination == "support" for o in session.new):
            session.info[self._wake_key] = True

    def _wake_on_commit(self, session: Session) -> None:
        if session.info.pop(self._wake_key, False):
            self._wake.set()
