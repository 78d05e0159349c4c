"""Telegram updates as the core's messages: who sent it, what text, which files."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Message

from flows import text

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # also the most the Bot API lets a bot download
USER_PREFIX = "telegram:"

GROUP_REFUSAL = text(None, "telegram_group_refusal")
FILE_TOO_BIG = text(None, "telegram_file_too_big", megabytes=MAX_DOWNLOAD_BYTES // (1024 * 1024))
FILE_FAILED = text(None, "telegram_file_failed")
UNREADABLE = text(None, "telegram_unreadable")


def user_key(chat_id: int) -> str:
    """The core's key for a Telegram private chat."""
    return f"{USER_PREFIX}{chat_id}"


def chat_of(user: str) -> int | None:
    """The chat id behind a user key; None for other channels' users."""
    if not user.startswith(USER_PREFIX):
        return None
    try:
        return int(user.removeprefix(USER_PREFIX))
    except ValueError:
        return None


@dataclass(frozen=True)
class MediaRef:
    """A file in a message, before it is downloaded."""

    kind: str  # the core's kinds: photo, document, voice, video
    file_id: str
    size: int | None
    mime: str | None
    filename: str | None = None


def media_of(message: Message) -> MediaRef | None:
    """The file a message carries, if any; for a photo, its largest size."""
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return MediaRef("photo", largest.file_id, largest.file_size, "image/jpeg")
    if message.voice:
        voice = message.voice
        return MediaRef("voice", voice.file_id, voice.file_size, voice.mime_type or "audio/ogg")
    if message.video:
        video = message.video
        return MediaRef("video", video.file_id, video.file_size, video.mime_type, video.file_name)
    if message.video_note:
        note = message.video_note
        return MediaRef("video", note.file_id, note.file_size, "video/mp4")
    if message.document:
        doc = message.document
        return MediaRef("document", doc.file_id, doc.file_size, doc.mime_type, doc.file_name)
    if message.audio:
        audio = message.audio
        return MediaRef(
            "document", audio.file_id, audio.file_size, audio.mime_type, audio.file_name
        )
    return None


def too_big(size: int | None) -> bool:
    return size is not None and size > MAX_DOWNLOAD_BYTES
