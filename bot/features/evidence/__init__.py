"""Evidence: files a reporter sends, kept with their hash, size, type and time."""

from __future__ import annotations

import hashlib

from bot.base.messages import Attachment
from bot.core.features import Feature
from bot.core.turn import TurnContext
from bot.store import Evidence
from flows import text
from flows.engine import Frame
from flows.model import Flow

feature = Feature("evidence")

MAX_FILE_BYTES = 20 * 1024 * 1024
FILE_KINDS = {"photo", "document", "voice", "video"}


@feature.action("store_evidence")
async def store_evidence(ctx: TurnContext, frame: Frame, flow: Flow) -> str | None:
    """Keep the files of a report being written; they join the case when it is sent."""
    files = frame.slots.setdefault("evidence", {"files": [], "notes": []})["files"]
    for attachment in ctx.incoming.attachments:
        item = await keep_file(ctx, attachment)
        if item is None:
            continue
        files.append(item.id)
        ctx.say(
            text(
                flow,
                "file_received",
                kind=file_kind(attachment.kind),
                hash=item.sha256[:12],
            )
        )
    return None


def file_kind(kind: str) -> str:
    """What a file is called for the reporter and the team: foto, bestand, spraakbericht, video."""
    return text("report_incident", f"file_{kind}")


async def keep_file(
    ctx: TurnContext, attachment: Attachment, *, case_id: int | None = None
) -> Evidence | None:
    """Keep a file with its hash, size, type and time; None (said why) if too big or unknown."""
    if attachment.kind not in FILE_KINDS:
        ctx.say(text("report_incident", "file_kind_refused"))
        return None
    if len(attachment.data) > MAX_FILE_BYTES:
        megabytes = MAX_FILE_BYTES // (1024 * 1024)
        ctx.say(text("report_incident", "file_too_big", megabytes=megabytes))
        return None
    item = Evidence(
        case_id=case_id,
        reporter_id=ctx.reporter.id,
        kind=attachment.kind,
        mime=attachment.mime,
        filename=(attachment.filename or "")[:200] or None,
        size=len(attachment.data),
        sha256=hashlib.sha256(attachment.data).hexdigest(),
        content=attachment.data,
        received_at=ctx.now,
    )
    ctx.session.add(item)
    await ctx.session.flush()
    return item
