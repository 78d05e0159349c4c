"""A fake Telegram Bot API on 127.0.0.1 that python-telegram-bot talks to over real HTTP.

Tests push updates (messages, photos, button presses) and read what the bot sent per chat.
The fake counts calls and can answer the next calls of a method with 429 or 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

DOCUMENT_LIMIT = 50 * 1000 * 1000
TOKEN = "123456:TEST-token-for-the-fake-bot-api"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Weerbaar",
    "username": "WeerbaarTestBot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Parameters PTB sends as plain strings; everything else arrives JSON-encoded.
_RAW = {
    "text",
    "caption",
    "callback_query_id",
    "url",
    "secret_token",
    "action",
    "file_id",
    "parse_mode",
}


@dataclass
class Sent:
    """A message the bot sent, as the fake keeps it."""

    message_id: int
    chat_id: int
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    disable_notification: bool = False
    at: float = 0.0  # time.perf_counter() when it arrived
    edits: int = 0
    document: tuple[str, bytes] | None = None  # (file name, content) of a sent document

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of the inline keyboard, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def hidden(self) -> list[str]:
        """The parts of the text under a spoiler entity."""
        units = self.text.encode("utf-16-le")
        return [
            units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in self.entities
            if e["type"] == "spoiler"
        ]

    def as_json(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(time.time()),
            "chat": _chat(self.chat_id),
            "from": BOT_USER,
        }
        if self.document is not None:
            name, content = self.document
            message["document"] = {
                "file_id": f"sent-{self.message_id}",
                "file_unique_id": f"u-sent-{self.message_id}",
                "file_name": name,
                "file_size": len(content),
            }
            if self.text:
                message["caption"] = self.text
                message["caption_entities"] = self.entities
        else:
            message["text"] = self.text
            if self.entities:
                message["entities"] = self.entities
        if self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "group", "title": "Gemeenteraad"}
    return {"id": chat_id, "type": "private", "first_name": "Anna"}


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Anna", "language_code": "nl"}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


class FakeTelegram:
    """The Bot API methods the channel uses, with state tests can inspect."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: Counter[str] = Counter()
        self.commands: list[dict[str, Any]] = []
        self.command_scope: dict[str, Any] | None = None
        self.webhook: dict[str, Any] | None = None
        self.webhook_statuses: list[int] = []  # 0: the connection failed
        self.webhook_attempts = 1
        self.webhook_retry_seconds = 0.05
        self.answered: list[str] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.failures: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        self.gates: dict[str, asyncio.Event] = {}
        self._messages: dict[int, list[Sent]] = defaultdict(list)
        self._by_id: dict[tuple[int, int], Sent] = {}
        self._files: dict[str, tuple[str, bytes, int]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(10_001)
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._arrivals: dict[int, asyncio.Condition] = defaultdict(asyncio.Condition)
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.base_url = ""
        self.pushed_at: dict[int, float] = {}

    # --- server --------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on an ephemeral port of 127.0.0.1; returns the base URL."""
        # Bots may send documents of up to 50 MB; aiohttp's default body limit is 1 MB.
        app = web.Application(client_max_size=DOCUMENT_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        params: dict[str, Any] = {}
        for key, value in (await request.post()).items():
            if not isinstance(value, str) or key in _RAW:
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls[method] += 1
        params = await self._params(request)
        if method in self.gates:
            await self.gates[method].wait()
        if self.failures[method]:
            status, retry_after = self.failures[method].pop(0)
            await self._notify()
            if status == 429:
                return _error(429, f"Too Many Requests: retry after {retry_after}", retry_after)
            return _error(status, "Internal Server Error")
        handler: Callable[[dict[str, Any]], Any] | None = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except LookupError as missing:
            return _error(400, f"Bad Request: {missing.args[0]}")
        await self._notify()
        return _ok(result)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        self.calls["download"] += 1
        path = request.match_info["path"]
        found = next((data for p, data, _ in self._files.values() if p == path), None)
        if request.match_info["token"] != self.token or found is None:
            return web.Response(status=404)
        return web.Response(body=found)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- Bot API methods -----------------------------------------------------------------

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands = list(params["commands"])
        self.command_scope = params.get("scope")
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            async with self._changed:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates)), timeout
                    )
        return self._updates[:limit]

    async def _record(self, sent: Sent) -> dict[str, Any]:
        self._messages[sent.chat_id].append(sent)
        self._by_id[(sent.chat_id, sent.message_id)] = sent
        arrivals = self._arrivals[sent.chat_id]
        async with arrivals:
            arrivals.notify_all()
        return sent.as_json()

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        text = str(params["text"])
        if not text or len(text.encode("utf-16-le")) // 2 > 4096:
            raise LookupError("message text is empty or too long")
        sent = Sent(
            next(self._ids),
            chat_id,
            text,
            list(params.get("entities") or []),
            params.get("reply_markup"),
            bool(params.get("disable_notification")),
            time.perf_counter(),
        )
        return await self._record(sent)

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        upload = params["document"]
        with upload.file as handle:
            content = handle.read()
        if len(content) > DOCUMENT_LIMIT:
            raise LookupError("file is too big")
        sent = Sent(
            next(self._ids),
            chat_id,
            str(params.get("caption") or ""),
            list(params.get("caption_entities") or []),
            params.get("reply_markup"),
            bool(params.get("disable_notification")),
            time.perf_counter(),
            document=(upload.filename, content),
        )
        return await self._record(sent)

    def _find(self, params: dict[str, Any]) -> Sent:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self._by_id:
            raise LookupError("message to edit not found")
        return self._by_id[key]

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        sent = self._find(params)
        sent.text = str(params["text"])
        sent.entities = list(params.get("entities") or [])
        sent.reply_markup = params.get("reply_markup")
        sent.edits += 1
        return sent.as_json()

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        sent = self._find(params)
        sent.reply_markup = params.get("reply_markup")
        sent.edits += 1
        return sent.as_json()

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self.answered.append(str(params["callback_query_id"]))
        return True

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:
        self.chat_actions.append((int(params["chat_id"]), str(params["action"])))
        return True

    async def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params["file_id"])
        if file_id not in self._files:
            raise LookupError("invalid file_id")
        path, _, size = self._files[file_id]
        if size > 20 * 1024 * 1024:
            raise LookupError("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": size,
            "file_path": path,
        }

    # --- what tests do -------------------------------------------------------------------

    def fail_next(
        self, method: str, status: int, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer the next `times` calls of `method` with this status (429 carries retry_after)."""
        self.failures[method].extend([(status, retry_after)] * times)

    def hold(self, method: str) -> asyncio.Event:
        """Make calls of `method` wait until the returned event is set."""
        self.gates[method] = asyncio.Event()
        return self.gates[method]

    async def push_batch(self, updates: list[dict[str, Any]]) -> None:
        """Queue several updates for getUpdates at once (the same one twice, for example)."""
        for update in updates:
            update.setdefault("update_id", next(self._update_ids))
        self._updates.extend(updates)
        await self._notify()

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver an update: to the webhook when one is set, else to getUpdates."""
        update.setdefault("update_id", next(self._update_ids))
        self.pushed_at[update["update_id"]] = time.perf_counter()
        if self.webhook is None:
            self._updates.append(update)
            await self._notify()
            return update
        if self._client is None:
            self._client = aiohttp.ClientSession()
        headers = {}
        if self.webhook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        # As Telegram does: the chat's next update waits for this answer; no 2xx, try again.
        for _ in range(self.webhook_attempts):
            try:
                async with self._client.post(
                    self.webhook["url"], json=update, headers=headers
                ) as reply:
                    self.webhook_statuses.append(reply.status)
                    if reply.status < 300:
                        break
            except aiohttp.ClientError:
                self.webhook_statuses.append(0)  # no answer at all
            await asyncio.sleep(self.webhook_retry_seconds)
        return update

    def message(self, chat_id: int, text: str = "", **fields: Any) -> dict[str, Any]:
        """A message update from a person in chat_id (a group when chat_id < 0)."""
        sender = chat_id if chat_id > 0 else 777
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": _user(sender),
            **fields,
        }
        if text:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"message": message}

    async def send_text(self, chat_id: int, text: str) -> dict[str, Any]:
        return await self.push(self.message(chat_id, text))

    def add_file(self, data: bytes, size: int | None = None, suffix: str = "jpg") -> str:
        """Keep a file the bot can fetch; returns its file_id."""
        number = next(self._ids)
        file_id = f"file-{number}"
        self._files[file_id] = (
            f"documents/file_{number}.{suffix}",
            data,
            size if size is not None else len(data),
        )
        return file_id

    async def send_photo(
        self, chat_id: int, data: bytes, caption: str = "", size: int | None = None
    ) -> dict[str, Any]:
        """A photo in three sizes; only the largest holds `data`."""
        sizes = []
        for scale, blob in ((90, data[:10]), (320, data[:100]), (1280, data)):
            declared = size if scale == 1280 and size is not None else len(blob)
            file_id = self.add_file(blob, declared)
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": f"u-{file_id}",
                    "width": scale,
                    "height": scale * 3 // 4,
                    "file_size": declared,
                }
            )
        fields: dict[str, Any] = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        return await self.push(self.message(chat_id, **fields))

    async def send_document(
        self, chat_id: int, data: bytes, name: str, mime: str, size: int | None = None
    ) -> dict[str, Any]:
        file_id = self.add_file(data, size, name.rsplit(".", 1)[-1])
        declared = size if size is not None else len(data)
        document = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_name": name,
            "mime_type": mime,
            "file_size": declared,
        }
        return await self.push(self.message(chat_id, document=document))

    async def press(self, chat_id: int, data: str, message_id: int | None = None) -> dict[str, Any]:
        """Press a button on the bot's message (by default its latest one with a keyboard)."""
        if message_id is None:
            chat = self._messages[chat_id]
            latest = next((m for m in reversed(chat) if m.reply_markup), chat[-1])
            message_id = latest.message_id
        pressed = self._by_id[(chat_id, message_id)]
        query = {
            "id": f"cb-{next(self._ids)}",
            "from": _user(chat_id),
            "chat_instance": f"ci-{chat_id}",
            "message": pressed.as_json(),
            "data": data,
        }
        return await self.push({"callback_query": query})

    def sent(self, chat_id: int) -> list[Sent]:
        """Messages the bot sent to chat_id, oldest first."""
        return list(self._messages[chat_id])

    def texts(self, chat_id: int) -> list[str]:
        return [m.text for m in self._messages[chat_id]]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until condition() holds, checking after every API call; fail after timeout."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    async def wait_sent(self, chat_id: int, count: int, timeout: float = 10.0) -> list[Sent]:
        """Wait until the bot has sent at least `count` messages to chat_id."""
        arrivals = self._arrivals[chat_id]
        async with arrivals:
            await asyncio.wait_for(
                arrivals.wait_for(lambda: len(self._messages[chat_id]) >= count), timeout
            )
        return self.sent(chat_id)
