"""The Telegram channel: updates in through python-telegram-bot, replies out through the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlparse

import aiohttp.web
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ApplicationBuilder

from bot.base.messages import Attachment, Incoming
from bot.base.redaction import safe_trace, user_tag
from bot.base.settings import Settings
from bot.channels.telegram import inbox, pending
from bot.channels.telegram.http import AiohttpRequest
from bot.channels.telegram.inbound import (
    FILE_FAILED,
    FILE_TOO_BIG,
    GROUP_REFUSAL,
    UNREADABLE,
    MediaRef,
    chat_of,
    media_of,
    too_big,
    user_key,
)
from bot.channels.telegram.lanes import ChatLanes
from bot.channels.telegram.outbound import Outgoing, is_token, render
from bot.core.app import App, StartupError
from bot.core.commands import COMMANDS as CORE_COMMANDS
from bot.core.dialogue import TurnFailed
from bot.core.outage import reachable, unavailable
from bot.store import deadletters
from bot.store.outbox import Claimed, DeliveryFailed, deliver_due, send_claimed
from nlu.safety import is_emergency

# Opt in to PTB's coming behaviour (time periods as timedelta) instead of a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger("weerbaar.telegram")

# The command menu, from the core's command table.
COMMANDS = tuple(BotCommand(c.name, c.description) for c in CORE_COMMANDS.values())
ALLOWED_UPDATES = ("message", "callback_query")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/telegram/webhook"
BUSY_POLL_SECONDS = 0.1  # the least time between getUpdates calls while many turns run
OWN_FAILURES = 3  # a turn that fails this often while the store answers is set aside
FIRST_BACKOFF = 0.5  # seconds before a failed turn is tried again; doubles up to MAX_BACKOFF
MAX_BACKOFF = 5.0
OUTAGE_NOTICE_AFTER = 5.0  # seconds of outage after which a waiting reporter hears about it
TYPING_AFTER = 1.0  # seconds a turn runs before 'typing…' shows (and a button is answered)
TYPING_EVERY = 4.0  # Telegram shows a chat action for about five seconds
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def webhook_secret(settings: Settings) -> str:
    """The configured webhook secret, or one derived from the bot token."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    token = settings.telegram_bot_token or ""
    return hashlib.sha256(f"weerbaar-telegram-webhook:{token}".encode()).hexdigest()


def _with_keyboard(query: CallbackQuery | None) -> int | None:
    """The id of the pressed message, while it still shows its keyboard."""
    if query is None or not isinstance(query.message, Message):
        return None
    return query.message.message_id if query.message.reply_markup is not None else None


def _pressed(query: CallbackQuery, user: str) -> Incoming:
    """A button press as the core's message."""
    data = query.data or ""
    if is_token(data) and isinstance(query.message, Message) and query.message.reply_markup:
        # The payload was too long for Telegram and travelled as a token; the core also
        # accepts the button's label, which the pressed message still shows.
        keys = (b for row in query.message.reply_markup.inline_keyboard for b in row)
        label = next((b.text for b in keys if b.callback_data == data), None)
        if label is not None:
            return Incoming(user=user, button=label)
    return Incoming(user=user, button=data)


def _seconds(period: int | float | timedelta) -> float:
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


def _says_danger(update: Update) -> bool:
    """Whether the update's words may describe danger now (the rules, no store, no service)."""
    message = update.effective_message
    words = (message.text or message.caption or "") if message is not None else ""
    return bool(words) and is_emergency(words)


class Outage:
    """Since when the store has been away, and which chats were told (once per outage)."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.told: set[int] = set()
        self.danger_told: set[int] = set()  # updates whose danger got the 112 answer at once

    def lasting(self) -> float:
        """Note the outage; how many seconds it has lasted."""
        now = time.monotonic()
        if self.since is None:
            self.since = now
        return now - self.since

    def over(self) -> None:
        self.since = None
        self.told.clear()
        self.danger_told.clear()


class _Tidy:
    """A turn's calls off the reply's path: the pressed button's answer, stale keyboards away.

    Started once, when the turn's replies are out or when the turn turns out slow; their
    failure changes nothing for the reporter.
    """

    def __init__(
        self, channel: TelegramChannel, chat_id: int, query: CallbackQuery | None, stale: set[int]
    ) -> None:
        self.channel = channel
        self.chat_id = chat_id
        self.query = query
        self.stale = stale
        self.started = False

    def start(self) -> None:
        if self.started:
            return
        self.started = True
        bot = self.channel.bot
        if self.query is not None:
            self.channel._aside(self.query.answer())  # Telegram stops the button's spinner
        for message_id in sorted(self.stale):
            self.channel._aside(
                bot.edit_message_reply_markup(self.chat_id, message_id, reply_markup=None)
            )


class TelegramChannel:
    """Polls Telegram (or serves its webhook), hands messages to the core, delivers the outbox."""

    def __init__(
        self,
        app: App,
        web: aiohttp.web.Application | None = None,
        *,
        poll_timeout: float = 30.0,
        retry_interval: float = 1.0,
        max_turns: int = 32,
    ) -> None:
        settings = app.settings
        if not settings.telegram_bot_token:
            raise ValueError("TELEGRAM_BOT_TOKEN: required for the Telegram channel")
        self.app = app
        self.store = app.store
        self.webhook_url = settings.telegram_webhook_url
        self.poll_timeout = poll_timeout
        self.retry_interval = retry_interval
        self._requests = (AiohttpRequest(), AiohttpRequest(connections=1))
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token)
            .job_queue(None)
            # aiohttp instead of httpx (see http.py). More patience than PTB's defaults (pool
            # 1 s, read 5 s): a busy moment should not become a delivery that waits for a retry.
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
        )
        if base := settings.telegram_api_base_url:
            builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
        if self.webhook_url and web is None:
            raise ValueError("TELEGRAM_WEBHOOK_URL: webhook mode needs the shared web server")
        # Updates come in through our own polling loop or the webhook, not PTB's updater: an
        # update is confirmed to Telegram only once its turn is stored (see _poll).
        self.ptb = builder.updater(None).build()
        self.bot = self.ptb.bot
        self.secret = webhook_secret(settings)
        self.webhook_path: str | None = None
        if self.webhook_url and web is not None:
            self.webhook_path = urlparse(self.webhook_url).path or WEBHOOK_PATH
            web.router.add_post(self.webhook_path, self.webhook)
        self.lanes = ChatLanes(max_turns)
        self.newest_update = 0  # the highest update id taken in so far
        self._handled: set[int] = set()  # updates done with, to leave the inbox
        self._accepting = False
        self._refused_groups: set[int] = set()
        self._retrying: set[int] = set()
        self._own_failures: Counter[int] = Counter()  # update id -> failures of its own
        self._failed_at: dict[int, int] = {}  # update id -> turns_done at its last failure
        self.turns_done = 0  # turns stored by this channel; shows whether others went on
        self.outage = Outage()
        self._keyboards: dict[int, set[int]] = {}  # chat id -> messages with a keyboard
        self._retry_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[None]] = set()  # calls off the reply's path
        self._poll_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Register the commands, start polling or set the webhook, start the retry loop."""
        try:
            await self.ptb.initialize()
        except BaseException as error:
            for request in self._requests:  # PTB leaves them open when getMe fails
                await request.shutdown()
            if isinstance(error, InvalidToken):
                raise StartupError("TELEGRAM_BOT_TOKEN: Telegram rejected this token") from None
            raise
        await self.bot.set_my_commands(COMMANDS, scope=BotCommandScopeAllPrivateChats())
        await self.ptb.start()
        self._accepting = True
        if self.webhook_url:
            await self.bot.set_webhook(
                self.webhook_url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
            )
        else:
            await self.bot.delete_webhook()  # getUpdates works only without a webhook
            self._poll_task = asyncio.create_task(self._poll())
        self._retry_task = asyncio.create_task(self._retry_loop())
        log.info("telegram channel started (%s)", "webhook" if self.webhook_url else "polling")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking updates, let running turns finish (up to `grace` seconds), shut down."""
        self._accepting = False
        self._stopping.set()
        if self._poll_task is not None:
            self._poll_task.cancel()  # waits in a long poll; unconfirmed updates come again
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
        if self._retry_task is not None:
            await self._retry_task  # never cancelled halfway through a database call
        if self.ptb.running:
            await self.ptb.stop()
        if not await self.lanes.idle(timeout=grace):
            await self.lanes.close()
        await asyncio.gather(*list(self._background), return_exceptions=True)
        if self._poll_task is not None and self._handled:
            with contextlib.suppress(Exception):  # left in the inbox, a copy is recognised
                await inbox.keep(self.store, [], self._handled)
        await self.ptb.shutdown()

    async def idle(self) -> None:
        """Wait until every queued turn has run and the calls aside (answers, edits) are done."""
        await self.lanes.idle()
        # Only those still running: a finished task leaves the set by a callback, and gather over
        # finished tasks returns without letting the loop run it (it would spin).
        while running := [task for task in self._background if not task.done()]:
            await asyncio.gather(*running, return_exceptions=True)

    # --- updates in ----------------------------------------------------------------------

    async def webhook(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        """POST from Telegram: check the secret token, handle the update, then answer.

        The answer waits until the turn is stored: Telegram sends a chat's next update only after
        this answer, so one person's messages are handled in order even across workers, and an
        update whose turn could not be stored is answered 503 and comes again.
        """
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return aiohttp.web.Response(status=403)
        if not self._accepting:
            return aiohttp.web.Response(status=503)  # Telegram tries again later
        try:
            data = await request.json()
            update = Update.de_json(data, self.bot) if isinstance(data, dict) else None
        except Exception:
            update = None
        if update is None:
            return aiohttp.web.Response(status=400)
        handled = asyncio.get_running_loop().create_future()
        self._accept(update, handled)
        try:
            await handled
        except Exception:
            return aiohttp.web.Response(status=503)
        return aiohttp.web.Response()

    async def _poll(self) -> None:
        """Long-poll getUpdates; keep each batch in the inbox, then confirm it to Telegram.

        Telegram forgets the updates below the offset of the next call, so the offset moves
        past a batch once it is in the inbox (see inbox.py): a process that dies with updates
        still queued finds them there after a restart, and the turns that were stored already
        are recognised (see _turn): every message is handled, and only once. Updates are put in
        their chat's lane as they arrive, before they are kept: while the store is away, danger
        still gets its answer at once, and the offset waits until the batch is kept.
        """
        for update in await self._waiting():
            self._accept(update)
        unkept: list[Update] = []  # taken in, not yet in the inbox
        offset: int | None = None
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=timedelta(seconds=0 if unkept else self.poll_timeout),
                    allowed_updates=ALLOWED_UPDATES,
                )
            except TelegramError as error:
                log.warning("telegram getUpdates failed (%s); trying again", type(error).__name__)
                await asyncio.sleep(_seconds(getattr(error, "retry_after", None) or 1.0))
                continue
            for update in updates:
                if update.update_id > self.newest_update:  # not taken in before
                    unkept.append(update)
                    self._accept(update)
            # The turns just queued start first: on SQLite, whose one writer is taken in turn,
            # a reply then does not wait for the inbox (the offset still waits for it).
            await asyncio.sleep(0)
            handled = set(self._handled)
            try:
                await inbox.keep(self.store, unkept, handled)
            except Exception as error:
                log.warning("telegram inbox not written (%s); trying again", safe_trace(error))
                await asyncio.sleep(1.0)
                continue
            self._handled -= handled
            unkept = []
            if updates:
                offset = updates[-1].update_id + 1

    async def _waiting(self) -> list[Update]:
        """What an earlier run kept in the inbox and did not finish (tried until the store answers)."""
        while True:
            try:
                return await inbox.waiting(self.store, self.bot)
            except Exception as error:
                log.warning("telegram inbox not read (%s); trying again", safe_trace(error))
                await asyncio.sleep(1.0)

    def _accept(self, update: Update, handled: asyncio.Future[None] | None = None) -> None:
        """Queue the update in its chat's lane; `handled` gets the outcome of its turn."""
        self.newest_update = max(self.newest_update, update.update_id)
        chat = update.effective_chat
        if chat is None or (update.message is None and update.callback_query is None):
            if not self.webhook_url:
                self._handled.add(update.update_id)
            if handled is not None:
                handled.set_result(None)
            return

        async def job() -> None:
            try:
                # Polling waits and tries again itself; a webhook call is answered 503 instead,
                # and Telegram sends the update again.
                await self._handle(update, keep_trying=not self.webhook_url)
            except BaseException as error:  # also a turn cut off by stop(): it comes again
                if handled is not None and not handled.done():
                    handled.set_exception(
                        RuntimeError(f"turn not finished: {type(error).__name__}")
                    )
                raise
            if not self.webhook_url:  # stored or set aside: out of the inbox
                self._handled.add(update.update_id)
            if handled is not None and not handled.done():
                handled.set_result(None)

        self.lanes.submit(chat.id, job)

    async def _handle(self, update: Update, *, keep_trying: bool) -> bool:
        """Run the update's turn until it is stored; False when it was set aside instead.

        A turn that fails while the store (or another dependency) is away is tried again with
        backoff and no limit, holding its chat's later updates behind it. A turn that fails for
        its own reason, while the store answers, is set aside after OWN_FAILURES tries.
        """
        delay = FIRST_BACKOFF
        while True:
            try:
                await self._turn(update)
            except Exception as error:
                if not await self._setback(update, error):
                    return False
                if not keep_trying:
                    raise
                await asyncio.sleep(delay)
                delay = min(MAX_BACKOFF, delay * 2)
                continue
            self._own_failures.pop(update.update_id, None)
            self._failed_at.pop(update.update_id, None)
            self.turns_done += 1
            self.outage.over()
            return True

    async def _setback(self, update: Update, error: Exception) -> bool:
        """After a failed turn: True when it should be tried again, False when set aside."""
        chat = update.effective_chat
        assert chat is not None
        where = str(error) if isinstance(error, TurnFailed) else safe_trace(error)
        # A dependency that fails only for this update while other turns are stored (a Rasa
        # server that chokes on this one text) is this update's own failure, not an outage.
        update_id = update.update_id
        others_went_on = self.turns_done > self._failed_at.get(update_id, self.turns_done)
        self._failed_at[update_id] = self.turns_done
        if (unavailable(error) and not others_went_on) or not await reachable(self.store):
            lasted = self.outage.lasting()
            log.warning("telegram update %s waits for the store (%s)", update.update_id, where)
            # Danger gets 112 at once; everyone hears, once per outage, that it will be answered.
            if update_id not in self.outage.danger_told and _says_danger(update):
                if await self._tell_directly(chat.id, "emergency"):
                    self.outage.danger_told.add(update_id)
            if lasted >= OUTAGE_NOTICE_AFTER and chat.id not in self.outage.told:
                if await self._tell_directly(chat.id, "outage"):
                    self.outage.told.add(chat.id)
            return True
        self.outage.over()
        self._own_failures[update_id] += 1
        if self._own_failures[update_id] < OWN_FAILURES:
            log.warning("telegram update %s failed (%s); trying again", update_id, where)
            return True
        del self._own_failures[update_id], self._failed_at[update_id]
        dialogue = self.app.dialogue
        number = await deadletters.set_aside(
            self.store,
            key=f"telegram:{update.update_id}",
            channel="telegram",
            update_json=update.to_dict(),
            error=where,
            user=user_key(chat.id),
            to_reporter=dialogue.text("set_aside"),
            to_team=dialogue.text("team_dead_letter"),
        )
        log.error(
            "telegram update %s failed %d times; set aside as dead letter %d (%s)",
            update_id,
            OWN_FAILURES,
            number,
            where,
        )
        await self._deliver(user_key(chat.id))
        return False

    async def _tell_directly(self, chat_id: int, key: str) -> bool:
        """Straight to Telegram, not through the store that may be away; True when it went out."""
        try:
            await self.bot.send_message(chat_id, self.app.dialogue.text(key))
        except TelegramError as error:
            log.info("%s not sent while the store is away: %s", key, type(error).__name__)
            return False
        return True

    async def _turn(self, update: Update) -> None:
        """One update of one chat: to the core in one transaction, then send what it queued.

        The replies are leased to this worker in the turn's own transaction and sent right
        after its commit; the outbox keeps them for the retry loop should the process die
        before they are marked delivered. The core decides whether the update is a copy.
        The button's answer and the removal of stale keyboards wait until the replies are out
        (or until the turn turns out slow), so they never hold up a reply.
        """
        chat = update.effective_chat
        assert chat is not None
        query = update.callback_query
        if chat.type != ChatType.PRIVATE:
            if query is not None:
                self._aside(query.answer())
            await self._refuse_group(chat.id)
            return
        # Every turn makes the earlier buttons stale in the core, so they are taken away.
        tidy = _Tidy(self, chat.id, query, self._stale_keyboards(chat.id, _with_keyboard(query)))
        # A slow turn (its sending included): the button's spinner stops anyway.
        slow = asyncio.get_running_loop().call_later(TYPING_AFTER, tidy.start)
        try:
            await self._turn_in_chat(update, chat.id, query)
        finally:
            slow.cancel()
            tidy.start()

    async def _turn_in_chat(
        self, update: Update, chat_id: int, query: CallbackQuery | None
    ) -> None:
        user = user_key(chat_id)
        delivery = f"telegram:{update.update_id}"
        claimed: list[Claimed] = []
        async with self._typing(chat_id):
            if query is not None:
                incoming: Incoming | None = _pressed(query, user)
            else:
                assert update.message is not None
                incoming = await self._received(update.message, user, delivery)
            if incoming is not None:
                dialogue = self.app.dialogue
                incoming = replace(incoming, delivery=delivery)
                replies = await dialogue.handle(
                    incoming, queue_replies=True, raise_failure=True, claimed=claimed
                )
                if not replies:  # every turn answers; only a copy of a stored one does not
                    log.info("telegram update %s handled before; ignored", update.update_id)
        if claimed:
            await send_claimed(self.store, claimed, self.send)
        else:  # a copy, a notice, or older messages to go first: whatever is due, in order
            await self._deliver(user)

    async def _received(self, message: Message, user: str, delivery: str) -> Incoming | None:
        text = message.text or message.caption or ""
        media = media_of(message)
        notice = f"{delivery}:notice"
        if media is None:
            if text.strip():
                return Incoming(user=user, text=text)
            await pending.enqueue_notice(self.store, user, UNREADABLE, delivery=notice)
            return None
        attachment = await self._download(media)
        if isinstance(attachment, str):
            await pending.enqueue_notice(self.store, user, attachment, delivery=notice)
            return Incoming(user=user, text=text) if text.strip() else None
        return Incoming(user=user, text=text, attachments=(attachment,))

    async def _download(self, media: MediaRef) -> Attachment | str:
        """The file's bytes, or the notice to send instead; never fetches more than the limit."""
        if too_big(media.size):
            return FILE_TOO_BIG
        try:
            file = await self.bot.get_file(media.file_id)
            if too_big(file.file_size):
                return FILE_TOO_BIG
            data = bytes(await file.download_as_bytearray())
        except BadRequest as error:
            return FILE_TOO_BIG if "too big" in error.message.lower() else FILE_FAILED
        except TelegramError as error:
            log.warning("telegram file download failed: %s", type(error).__name__)
            return FILE_FAILED
        return Attachment(media.kind, data, media.mime, media.filename)

    def _stale_keyboards(self, chat_id: int, pressed: int | None) -> set[int]:
        """The messages in this chat whose inline keyboard is open now; forgotten here."""
        open_ids = self._keyboards.pop(chat_id, set())
        if pressed is not None:
            open_ids.add(pressed)
        return open_ids

    def _aside(self, call: Awaitable[Any]) -> None:
        """A platform call off the reply's path: its failure changes nothing for the reporter."""
        task = asyncio.ensure_future(self._quietly(call))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _refuse_group(self, chat_id: int) -> None:
        """Say once per group that the bot only works in a private chat."""
        if chat_id in self._refused_groups:
            return
        self._refused_groups.add(chat_id)
        await self._quietly(self.bot.send_message(chat_id, GROUP_REFUSAL))

    @contextlib.asynccontextmanager
    async def _typing(self, chat_id: int) -> AsyncIterator[None]:
        """Show 'typing…' while a turn runs longer than TYPING_AFTER seconds."""
        done = asyncio.Event()
        task = asyncio.create_task(self._keep_typing(chat_id, done))
        try:
            yield
        finally:
            done.set()
            # Let a running request finish, so 'typing' never shows after the reply.
            await task

    async def _keep_typing(self, chat_id: int, done: asyncio.Event) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(done.wait(), TYPING_AFTER)  # a quick turn shows nothing
        while not done.is_set():
            await self._quietly(self.bot.send_chat_action(chat_id, ChatAction.TYPING))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), TYPING_EVERY)

    async def _quietly(self, call: Awaitable[Any]) -> None:
        """A call whose failure changes nothing for the reporter."""
        try:
            await call
        except TelegramError as error:
            log.info("telegram call failed: %s", type(error).__name__)

    # --- messages out --------------------------------------------------------------------

    async def _deliver(self, user: str | None = None, reporter: int | None = None) -> None:
        """Send this reporter's due messages, unless an older one waits for its retry."""
        reporter = await pending.sendable(self.store, user, reporter)
        if reporter is not None:
            await deliver_due(self.store, "user", self.send, reporter_id=reporter)

    async def send(self, payload: dict[str, Any], retry: bool = False) -> None:
        """Send one outbox message; DeliveryFailed when Telegram should be tried again later.

        A retry is sent as it is: the Bot API cannot look up whether an earlier attempt arrived.
        """
        user = str(payload.get("user", ""))
        chat_id = chat_of(user)
        if chat_id is None:
            log.error("outbox message for a non-Telegram user %s dropped", user_tag(user))
            return
        for part in render(payload):
            try:
                sent = await self._post(chat_id, part)
            except RetryAfter as error:
                raise DeliveryFailed("telegram 429", _seconds(error.retry_after)) from None
            except Forbidden:
                log.warning("reporter %s blocked the bot; message dropped", user_tag(user))
                return
            except BadRequest as error:
                log.warning("telegram refused a message (%s); dropped", error.message[:80])
                return
            except NetworkError as error:
                raise DeliveryFailed(f"telegram unreachable ({type(error).__name__})") from None
            except TelegramError as error:
                raise DeliveryFailed(f"telegram error ({type(error).__name__})") from None
            if part.keyboard is not None and "case" not in payload:
                # Buttons of later news (a check-in) stay valid; a reply's last only one turn.
                self._keyboards.setdefault(chat_id, set()).add(sent.message_id)

    async def _post(self, chat_id: int, part: Outgoing) -> Message:
        if part.file is None:
            return await self.bot.send_message(
                chat_id,
                part.text,
                entities=part.entities or None,
                reply_markup=part.keyboard,
                link_preview_options=NO_PREVIEW,
            )
        return await self.bot.send_document(
            chat_id,
            InputFile(part.file.data, filename=part.file.filename),
            caption=part.text or None,
            caption_entities=part.entities or None,
            reply_markup=part.keyboard,
        )

    async def _retry_loop(self) -> None:
        """Every retry_interval: hand each Telegram reporter with due messages to their lane."""
        while not self._stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.retry_interval)
                return
            try:
                due = await pending.due_reporters(self.store)
            except Exception as error:
                log.warning("outbox check failed: %s", safe_trace(error))
                continue
            await self._replay_requested()
            for reporter, user in due:
                chat_id = chat_of(user)
                # A busy lane delivers when its job ends: every turn does, and so does a retry.
                if chat_id is None or chat_id in self._retrying or self.lanes.busy(chat_id):
                    continue
                self._retrying.add(chat_id)
                self.lanes.submit(chat_id, partial(self._retry, chat_id, reporter))

    async def _retry(self, chat_id: int, reporter: int) -> None:
        self._retrying.discard(chat_id)
        await self._deliver(reporter=reporter)

    async def _replay_requested(self) -> None:
        """Dead letters an operator asked to replay (`python -m bot deadletters retry`)."""
        try:
            claimed = await deadletters.claim_retries(self.store, "telegram")
        except Exception as error:
            log.warning("dead letter check failed: %s", safe_trace(error))
            return
        for number, data in claimed:
            update = Update.de_json(data, self.bot) if isinstance(data, dict) else None
            if update is None or update.effective_chat is None:
                log.error("dead letter %d holds no update; left as it is", number)
                continue
            log.info("dead letter %d replayed", number)
            self.lanes.submit(update.effective_chat.id, partial(self._replay, update))

    async def _replay(self, update: Update) -> None:
        if await self._handle(update, keep_trying=True):
            await deadletters.mark_handled(self.store, f"telegram:{update.update_id}")
