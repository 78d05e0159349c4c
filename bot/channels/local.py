"""The local channel: the interactive console and the JSON chat on stdin/stdout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any

from bot.base.messages import Attachment, Button, Incoming, Reply, file_from_payload, file_payload
from bot.core.app import App
from bot.features import aftercare
from bot.jobs.scheduler import Scheduler
from flows import text

MAX_LINE_BYTES = 16 * 1024
INPUT_KEYS = {"text", "button", "user"}


class BadInput(ValueError):
    """A JSON chat line that cannot be used; the message is Dutch and says why."""


def read_line(raw: bytes, default_user: str) -> Incoming:
    """One stdin line: plain text, or a JSON object with text or button (and optional user)."""
    if len(raw) > MAX_LINE_BYTES:
        raise BadInput(text(None, "local_too_long", bytes=MAX_LINE_BYTES))
    try:
        line = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BadInput(text(None, "local_not_utf8")) from None
    if "\x00" in line:
        raise BadInput(text(None, "local_bad_characters"))
    if not line.startswith("{"):
        return Incoming(user=default_user, text=line)
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        raise BadInput(text(None, "local_not_json")) from None
    if not isinstance(data, dict):
        raise BadInput(text(None, "local_not_an_object"))
    if unknown := set(data) - INPUT_KEYS:
        raise BadInput(text(None, "local_unknown_keys", keys=", ".join(sorted(unknown))))
    if ("text" in data) == ("button" in data):
        raise BadInput(text(None, "local_text_or_button"))
    values = {k: data[k] for k in INPUT_KEYS if k in data}
    if not all(isinstance(v, str) for v in values.values()):
        raise BadInput("text, button en user moeten tekst zijn.")
    if any("\x00" in v for v in values.values()):
        raise BadInput(text(None, "local_bad_characters"))
    user = values.get("user", "").strip()
    if "user" in values and not (0 < len(user) <= 64):
        raise BadInput("user moet 1 tot 64 tekens zijn.")
    return Incoming(
        user=f"local:{user}" if user else default_user,
        text=values.get("text", ""),
        button=values.get("button"),
    )


def user_line(user: str, reply: Reply) -> dict[str, Any]:
    line: dict[str, Any] = {
        "to": "user",
        "user": user.removeprefix("local:"),
        "text": reply.text,
        "buttons": [{"label": b.label, "payload": b.payload} for b in reply.buttons],
    }
    if reply.file is not None:
        line["file"] = file_line(reply.file)
    return line


def file_line(file: Attachment) -> dict[str, Any]:
    """A file sent to the reporter: name and type, and a JSON file's content as JSON, else base64."""
    shown = file_payload(file)
    if file.mime == "application/json":
        try:
            return {"name": shown["name"], "mime": shown["mime"], "json": json.loads(file.data)}
        except ValueError:
            pass
    return {"name": shown["name"], "mime": shown["mime"], "base64": shown["base64"]}


async def drain_outbox(app: App) -> list[dict[str, Any]]:
    """Hand over what waits in the outbox as local output lines (local mode only)."""
    lines: list[dict[str, Any]] = []
    store = app.store
    async with store.session() as session:
        if not app.settings.slack_bot_token:
            for message in await store.due_outbox(session, "support"):
                lines.append(
                    {
                        "to": "support",
                        "case": message.payload.get("case"),
                        "text": message.payload.get("text", ""),
                    }
                )
                await store.mark_delivered(session, message)
        if not app.settings.telegram_bot_token:
            for message in await store.due_outbox(session, "user"):
                user = message.payload.get("user", "")
                if user.startswith("local:"):
                    file = file_from_payload(message.payload.get("file"))
                    buttons = tuple(
                        Button(str(b["label"]), str(b["payload"]))
                        for b in message.payload.get("buttons") or []
                    )
                    text = message.payload.get("text", "")
                    lines.append(user_line(user, Reply(text, buttons, file=file)))
                    await store.mark_delivered(session, message)
    return lines


async def _readline(stream: IO[bytes]) -> bytes:
    return await asyncio.get_running_loop().run_in_executor(None, stream.readline)


@contextlib.asynccontextmanager
async def due_jobs(
    app: App, show: Callable[[], Awaitable[None]], every: float = 1.0
) -> AsyncIterator[Scheduler]:
    """Local mode: this process runs the scheduled jobs (check-ins, reminders) as they fall due."""
    scheduler = Scheduler(app.store, app.settings, app.dialogue.features.jobs, autorun=False)
    await scheduler.start()
    upkeep = aftercare.Upkeep(scheduler, every=every, run_due=True, after=show)
    upkeep.start()
    try:
        yield scheduler
    finally:
        await upkeep.stop()
        await scheduler.stop()


async def json_chat(
    app: App,
    user: str,
    stdin: IO[bytes],
    write: Callable[[str], None],
    *,
    every: float = 1.0,
) -> None:
    """One input per line in, one JSON object per output line out, until end of input."""

    def emit(obj: dict[str, Any]) -> None:
        write(json.dumps(obj, ensure_ascii=False))

    turn = asyncio.Lock()  # a turn's own lines come out together, before anything that fell due

    async def show_due() -> None:
        async with turn:
            for line in await drain_outbox(app):
                emit(line)

    default_user = f"local:{user}"
    async with due_jobs(app, show_due, every):
        while raw := await _readline(stdin):
            if not raw.strip():
                continue
            try:
                message = read_line(raw.rstrip(b"\r\n"), default_user)
            except BadInput as error:
                emit({"error": str(error)})
                continue
            async with turn:
                for reply in await app.dialogue.handle(message):
                    emit(user_line(message.user, reply))
                for line in await drain_outbox(app):
                    emit(line)


async def console_chat(app: App, user: str) -> None:
    """An interactive conversation in the terminal; a number presses a button."""
    print(text(None, "local_banner") + "\n")
    buttons: list[str] = []

    async def show_due() -> None:
        for line in await drain_outbox(app):
            if line["to"] == "support":
                about = f", {line['case']}" if line["case"] else ""
                print(text(None, "local_to_team", about=about, text=line["text"]))
                continue
            print(line["text"])
            for button in line["buttons"]:  # a check-in that fell due: its buttons work too
                buttons.append(button["payload"])
                print(f"  [{len(buttons)}] {button['label']}")

    default_user = f"local:{user}"
    async with due_jobs(app, show_due):
        while True:
            sys.stdout.write("> ")
            sys.stdout.flush()
            raw = await _readline(sys.stdin.buffer)
            if not raw:
                print()
                return
            try:
                typed = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                print(text(None, "local_unreadable"))
                continue
            if typed.isdigit() and 0 < int(typed) <= len(buttons):
                message = Incoming(user=default_user, button=buttons[int(typed) - 1])
            else:
                message = Incoming(user=default_user, text=typed)
            buttons.clear()
            for reply in await app.dialogue.handle(message):
                print(reply.text)
                if reply.file is not None:
                    print(json.dumps(file_line(reply.file), ensure_ascii=False, indent=2))
                for button in reply.buttons:
                    buttons.append(button.payload)
                    print(f"  [{len(buttons)}] {button.label}")
            await show_due()
            print()
