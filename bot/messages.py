"""The internal message types every channel translates to and from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    """A choice offered with a reply; the payload comes back when it is pressed."""

    label: str
    payload: str


@dataclass(frozen=True)
class Attachment:
    """A file a reporter sent (photo, document, voice note, video)."""

    kind: str
    data: bytes
    mime: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One message from a reporter: text, a pressed button, or files."""

    user: str  # "<channel>:<id>", e.g. "telegram:12345" or "local:anna"
    text: str = ""
    button: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Reply:
    """One message to the reporter."""

    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
