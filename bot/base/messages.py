"""The internal message types every channel translates to and from."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Button(NamedTuple):
    """A choice offered with a reply; the payload comes back when it is pressed.

    A (label, payload) pair, the form in which the flow engine offers buttons.
    """

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
    # The platform's id for this message ("telegram:<update id>"): a copy is handled once.
    delivery: str | None = None


@dataclass(frozen=True)
class Reply:
    """One message to the reporter."""

    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    file: Attachment | None = None  # e.g. the reporter's own data as a JSON file


@dataclass(frozen=True)
class ToTeam:
    """One message for the support team, sent through the outbox; the Slack desk posts it.

    Kinds: "escalation" (a new card), "card" (the card again, as the case is now), "relay",
    "note" and "evidence" (in the card's thread), "checkin", "reminder", "reescalation",
    "digest" and "dead_letter" (in the support channel).
    """

    kind: str
    case: str | None = None  # the case's reference
    text: str | None = None
    key: str | None = None  # a message with the same key is posted once, however often it is sent
    details: dict[str, Any] = field(default_factory=dict)  # what this kind carries besides

    def payload(self) -> dict[str, Any]:
        """The message as JSON-safe data, for the outbox."""
        data: dict[str, Any] = {"kind": self.kind, **self.details}
        for name in ("case", "text", "key"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


def file_payload(file: Attachment) -> dict[str, str]:
    """A reply's file as JSON-safe data, for the outbox."""
    return {
        "kind": file.kind,
        "name": file.filename or "bestand",
        "mime": file.mime or "application/octet-stream",
        "base64": base64.b64encode(file.data).decode(),
    }


def file_from_payload(data: Any) -> Attachment | None:
    """The file an outbox payload carries (its "file" value), or None when there is none."""
    if not isinstance(data, dict) or not isinstance(data.get("base64"), str):
        return None
    try:
        content = base64.b64decode(data["base64"], validate=True)
    except (binascii.Error, ValueError):
        return None
    return Attachment(
        str(data.get("kind") or "document"), content, data.get("mime"), data.get("name")
    )
