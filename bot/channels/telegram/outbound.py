"""Outbox payloads as Telegram messages: split text, inline keyboards, discreet notifications."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity

from bot.base.messages import Attachment, file_from_payload
from flows import text

MAX_TEXT = 4096  # Telegram's limit per message, counted in UTF-16 code units
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
TOKEN_MARK = "~"
DISCREET_NOTICE = text(None, "telegram_discreet_notice")
ROW_BUTTONS = 3
ROW_CHARS = 24  # short labels share a row; long ones get their own


@dataclass(frozen=True)
class Outgoing:
    """One sendMessage call, or one sendDocument call when it carries a file (text as caption)."""

    text: str
    entities: tuple[MessageEntity, ...] = ()
    keyboard: InlineKeyboardMarkup | None = None
    file: Attachment | None = None


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (entity offsets and the 4,096 limit use UTF-16 units)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> str:
    """The longest prefix of text within limit UTF-16 units."""
    prefix = text[:limit]
    while (excess := utf16_len(prefix) - limit) > 0:
        prefix = prefix[: len(prefix) - (excess + 1) // 2]
    return prefix


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut text into parts of at most limit units, at a paragraph, line, sentence or word end."""
    parts: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        window = _fit(rest, limit)
        cut = 0
        for separator in ("\n\n", "\n", ". ", " "):
            at = window.rfind(separator)
            if at >= len(window) // 2:
                cut = at + len(separator)
                break
        if cut == 0:
            cut = len(window)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


def callback_data(payload: str) -> str:
    """The payload itself when it fits Telegram's 64 bytes, else a short stable token."""
    if len(payload.encode()) <= MAX_CALLBACK_BYTES:
        return payload
    return TOKEN_MARK + hashlib.sha256(payload.encode()).hexdigest()[:16]


def is_token(data: str) -> bool:
    """Whether callback data is a token standing for a payload that was too long."""
    return len(data) == 17 and data.startswith(TOKEN_MARK)


def keyboard(buttons: Sequence[dict[str, Any]]) -> InlineKeyboardMarkup | None:
    """Buttons as an inline keyboard; short labels share a row."""
    rows: list[list[InlineKeyboardButton]] = []
    width = 0
    for button in buttons:
        label, payload = str(button["label"]), str(button["payload"])
        key = InlineKeyboardButton(label, callback_data=callback_data(payload))
        if rows and len(rows[-1]) < ROW_BUTTONS and width + len(label) <= ROW_CHARS:
            rows[-1].append(key)
            width += len(label)
        else:
            rows.append([key])
            width = len(label)
    return InlineKeyboardMarkup(rows) if rows else None


def _hidden(text: str, offset: int = 0) -> tuple[MessageEntity, ...]:
    return (MessageEntity(MessageEntity.SPOILER, offset, utf16_len(text)),)


def render(payload: dict[str, Any]) -> list[Outgoing]:
    """The messages for one outbox payload; a file goes last, and so do the buttons.

    A payload about a case (a later notification, not an answer in the conversation) opens
    with a neutral line and hides its details under a spoiler, so the push notification and
    the chat list show no incident details.
    """
    text = str(payload.get("text") or "").strip()
    file = file_from_payload(payload.get("file"))
    messages: list[Outgoing] = []
    if text or file is None:
        text = text or "…"
        if "case" in payload:
            header = DISCREET_NOTICE + "\n\n"
            parts = split_text(text, MAX_TEXT - utf16_len(header))
            messages.append(Outgoing(header + parts[0], _hidden(parts[0], utf16_len(header))))
            messages += [Outgoing(part, _hidden(part)) for part in parts[1:]]
        else:
            messages += [Outgoing(part) for part in split_text(text)]
    if file is not None:
        if messages and utf16_len(messages[-1].text) <= MAX_CAPTION:
            messages[-1] = replace(messages[-1], file=file)
        else:
            messages.append(Outgoing("", file=file))
    messages[-1] = replace(messages[-1], keyboard=keyboard(payload.get("buttons") or []))
    return messages
