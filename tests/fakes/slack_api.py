"""A fake Slack Web API on 127.0.0.1 that slack-sdk and slack-bolt talk to over real HTTP.

It answers the methods the support desk uses, keeps what was posted per channel and thread,
counts every call, and fails the next calls on request (5xx, 429 with Retry-After, or no
answer at all: with `processed=True` the call takes effect first, as when Slack did post but
the answer got lost). It also serves response_url posts, file uploads (files.upload v2: an
upload URL, the bytes, then completion into a channel or thread) and a Socket Mode WebSocket.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"
CHANNEL = "C0SUPPORT1"
BOT_USER = "U0BOTUSER"
BOT_ID = "B0BOTUSER"


@dataclass
class Posted:
    """A message as the fake keeps it."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    reply_broadcast: bool = False
    metadata: dict[str, Any] | None = None
    updates: int = 0
    at: float = 0.0  # time.perf_counter() when it arrived

    def buttons(self) -> list[str]:
        return [
            e["text"]["text"] for b in self.blocks if b["type"] == "actions" for e in b["elements"]
        ]

    def as_slack(self, with_metadata: bool) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "text": self.text,
            "bot_id": BOT_ID,
            "user": BOT_USER,
        }
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata:
            message["metadata"] = self.metadata
        return message


@dataclass
class Uploaded:
    """A file shared through files.completeUploadExternal."""

    file_id: str
    channel: str
    filename: str
    content: bytes
    title: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None


@dataclass
class Fault:
    """What the next matching call gets instead of a normal answer."""

    kind: str  # "status" | "ratelimit" | "hang"
    method: str | None
    status: int = 503
    retry_after: int = 1
    processed: bool = False


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


class FakeSlack:
    """The Slack Web API as the desk sees it; start() it, point SLACK_API_BASE_URL at `url`."""

    def __init__(
        self,
        *,
        members: tuple[str, ...] = (),
        users: dict[str, dict[str, Any]] | None = None,
        channels: tuple[str, ...] = (CHANNEL,),
        now: Callable[[], float] = time.time,
    ) -> None:
        self.members = set(members)
        self.users = users or {}
        self.channels = set(channels)
        self.calls: Counter[str] = Counter()
        self.messages: list[Posted] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.published: list[dict[str, Any]] = []  # views.publish: {"user_id", "view"}
        self.uploads: list[Uploaded] = []
        self._files: dict[str, dict[str, Any]] = {}  # file_id -> filename, length, content
        self.responses: list[dict[str, Any]] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.connections = 0
        self._faults: list[Fault] = []
        self.down_status: int | None = None
        self._now = now  # message ts are times, as in Slack; tests pass their clock
        self._last_ts = 0.0
        self._release = asyncio.Event()
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_open = asyncio.Event()
        self._posted = asyncio.Condition()
        self._acked: dict[str, asyncio.Event] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._release.set()
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    # --- faults ----------------------------------------------------------------------------

    def fail_next(self, n: int = 1, *, status: int = 503, method: str | None = None) -> None:
        self._faults += [Fault("status", method, status=status) for _ in range(n)]

    def down(self, status: int = 500) -> None:
        """Answer every call with this status until up()."""
        self.down_status = status

    def up(self) -> None:
        self.down_status = None

    def rate_limit_next(
        self, n: int = 1, *, retry_after: int = 3, method: str | None = None
    ) -> None:
        self._faults += [Fault("ratelimit", method, retry_after=retry_after) for _ in range(n)]

    def hang_next(self, n: int = 1, *, processed: bool = False, method: str | None = None) -> None:
        """Never answer the next calls (until stop); with processed, do the work first."""
        self._faults += [Fault("hang", method, processed=processed) for _ in range(n)]

    def _fault_for(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method in (None, method):
                self._faults.remove(fault)
                return fault
        return None

    # --- what tests read ---------------------------------------------------------------------

    def top_level(self, channel: str = CHANNEL) -> list[Posted]:
        return [m for m in self.messages if m.channel == channel and m.thread_ts is None]

    def thread(self, ts: str) -> list[Posted]:
        return [m for m in self.messages if m.thread_ts == ts]

    def message(self, ts: str) -> Posted:
        return next(m for m in self.messages if m.ts == ts)

    # --- the Web API -------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.calls[method] += 1
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            params.update(await request.post())
        if self.down_status is not None:
            return web.Response(
                status=self.down_status, text="upstream trouble", content_type="text/plain"
            )
        fault = self._fault_for(method)
        if fault is not None and fault.kind == "status":
            return web.Response(
                status=fault.status, text="upstream trouble", content_type="text/plain"
            )
        if fault is not None and fault.kind == "ratelimit":
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault is not None and fault.kind == "hang" and not fault.processed:
            await self._release.wait()
            return web.json_response({"ok": False, "error": "never_answered"})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or str(params.get("token", ""))
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            body: dict[str, Any] = {"ok": False, "error": "invalid_auth"}
        else:
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            body = handler(params, request) if handler else {"ok": False, "error": "unknown_method"}
        if fault is not None and fault.kind == "hang":
            await self._release.wait()  # done, but the answer never comes
        return web.json_response(body)

    def _next_ts(self) -> str:
        self._last_ts = max(self._now(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    @staticmethod
    def _json(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def _auth_test(self, params: dict[str, Any], request: web.Request) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://weerbaar.example.slack.com/",
            "team": "Weerbaar",
            "user": "weerbaar",
            "team_id": "T0TEAM001",
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _chat_postMessage(self, params: dict[str, Any], request: web.Request) -> dict[str, Any]:
        channel = params.get("channel")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        thread_ts = params.get("thread_ts") or None
        if thread_ts and not any(m.ts == thread_ts for m in self.messages):
            return {"ok": False, "error": "thread_not_found"}
        posted = Posted(
            channel=channel,
            ts=self._next_ts(),
            text=str(params.get("text", "")),
            blocks=self._json(params.get("blocks")) or [],
            thread_ts=thread_ts,
            reply_broadcast=_truthy(params.get("reply_broadcast")),
            metadata=self._json(params.get("metadata")),
            at=time.perf_counter(),
        )
        self.messages.append(posted)
        asyncio.get_running_loop().create_task(self._notify())
        return {"ok": True, "channel": channel, "ts": posted.ts, "message": posted.as_slack(False)}

    async def _notify(self) -> None:
        async with self._posted:
            self._posted.notify_all()

    async def cards_posted(self, count: int, timeout: float = 5.0) -> None:
        """Wait until `count` top-level messages are in the support channel."""

        async def enough() -> None:
            async with self._posted:
                await self._posted.wait_for(lambda: len(self.top_level()) >= count)

        await asyncio.wait_for(enough(), timeout)

    def _chat_update(self, params: dict[str, Any], request: web.Request) -> dict[str, Any]:
        found = [
            m
            for m in self.messages
            if m.channel == params.get("channel") and m.ts == params.get("ts")
        ]
        if not found:
            return {"ok": False, "error": "message_not_found"}
        message = found[0]
        message.text = str(params.get("text", message.text))
        message.blocks = self._json(params.get("blocks")) or message.blocks
        message.updates += 1
        return {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}

    def _chat_postEphemeral(self, params: dict[str, Any], request: web.Request) -> dict[str, Any]:
        if params.get("user") not in self.members:
            return {"ok": False, "error": "user_not_in_channel"}
        self.ephemerals.append(dict(params))
        return {"ok": True, "message_ts": self._next_ts()}

    def _views_open(self, params: dict[str, Any], request: web.Request) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = self._json(params.get("view"))
        self.views.append(view)
        return {"ok": True, "view": {"id": f"V{len(self.views):08d}", **view}}

    def _views_publish(self, params: dict[str, Any], request: web.Request) -> dict[str, Any]:
        if params.get("user_id") not in self.users and params.get("user_id") not in self.members:
            return {"ok": False, "error": "user_not_found"}
        view = self._json(params.get("view"))
        self.published.append({"user_id": params["user_id"], "view": view})
        return {"ok": True, "view": {"id": f"V{len(self.published):08d}", **view}}

    def _conversations_open(self, params: dict[str, Any], request: web.Request) -> dict[str, Any]:
        user = str(params.get("users", ""))
        if user not in self.users and user not in self.members:
            return {"ok": False, "error": "user_not_found"}
        channel = "D" + user.removeprefix("U")
        self.channels.add(channel)
        return {"ok": True, "channel": {"id": channel}}

    def _files_getUploadURLExternal(
        self, params: dict[str, Any], request: web.Request
    ) -> dict[str, Any]:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        self._files[file_id] = {
            "filename": str(params["filename"]),
            "length": int(params["length"]),
            "content": None,
        }
        upload_url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
        return {"ok": True, "upload_url": upload_url, "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        self.calls["upload"] += 1
        pending = self._files.get(request.match_info["file_id"])
        if pending is None:
            return web.Response(status=404, text="unknown file")
        pending["content"] = await request.read()
        return web.Response(text="OK - " + str(len(pending["content"])))

    def _files_completeUploadExternal(
        self, params: dict[str, Any], request: web.Request
    ) -> dict[str, Any]:
        channel = params.get("channel_id")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        thread_ts = params.get("thread_ts") or None
        if thread_ts and not any(m.ts == thread_ts for m in self.messages):
            return {"ok": False, "error": "thread_not_found"}
        files = self._json(params.get("files")) or []
        done = []
        for item in files:
            pending = self._files.get(item.get("id"))
            if pending is None or pending["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            if len(pending["content"]) != pending["length"]:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            self.uploads.append(
                Uploaded(
                    file_id=item["id"],
                    channel=str(channel),
                    filename=pending["filename"],
                    content=pending["content"],
                    title=item.get("title"),
                    thread_ts=thread_ts,
                    initial_comment=params.get("initial_comment") or None,
                )
            )
            done.append({"id": item["id"], "name": pending["filename"], "title": item.get("title")})
        return {"ok": True, "files": done}

    def _users_info(self, params: dict[str, Any], request: web.Request) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _conversations_members(
        self, params: dict[str, Any], request: web.Request
    ) -> dict[str, Any]:
        if params.get("channel") not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        members = sorted(self.members)
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = members[start : start + limit]
        cursor = str(start + limit) if start + limit < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_history(
        self, params: dict[str, Any], request: web.Request
    ) -> dict[str, Any]:
        oldest = float(params.get("oldest") or 0)
        with_metadata = _truthy(params.get("include_all_metadata"))
        found = [
            m.as_slack(with_metadata)
            for m in reversed(self.top_level(str(params.get("channel"))))
            if float(m.ts) >= oldest
        ]
        return {"ok": True, "messages": found, "has_more": False}

    def _conversations_replies(
        self, params: dict[str, Any], request: web.Request
    ) -> dict[str, Any]:
        ts = str(params.get("ts"))
        with_metadata = _truthy(params.get("include_all_metadata"))
        parent = [m for m in self.messages if m.ts == ts]
        if not parent:
            return {"ok": False, "error": "thread_not_found"}
        found = [m.as_slack(with_metadata) for m in parent + self.thread(ts)]
        return {"ok": True, "messages": found, "has_more": False}

    def _apps_connections_open(
        self, params: dict[str, Any], request: web.Request
    ) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"}

    # --- response_url ------------------------------------------------------------------------

    async def _respond(self, request: web.Request) -> web.Response:
        self.calls["response_url"] += 1
        self.responses.append({"name": request.match_info["name"], **(await request.json())})
        return web.Response(text="ok")

    # --- Socket Mode -------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.connections += 1
        self._sockets.append(socket)
        self._socket_open.set()
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0WEERBAAR"}}
        )
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                envelope_id = data.get("envelope_id")
                if envelope_id:
                    self.acks[envelope_id] = data
                    self._acked.setdefault(envelope_id, asyncio.Event()).set()
        finally:
            self._sockets.remove(socket)
        return socket

    async def connected(self, timeout: float = 5.0) -> None:
        """Wait until a Socket Mode client is connected."""
        await asyncio.wait_for(self._socket_open.wait(), timeout)

    async def push(
        self, kind: str, payload: dict[str, Any], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Send an envelope over Socket Mode and return the client's acknowledgement."""
        envelope_id = uuid.uuid4().hex
        self._acked[envelope_id] = asyncio.Event()
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        await asyncio.wait_for(self._acked[envelope_id].wait(), timeout)
        return self.acks[envelope_id]
