"""The aangifte dossier of one case: a PDF for the police, and the evidence package (ZIP).

Everything is made in memory from the case as stored; nothing is written to disk here.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import mimetypes
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from bot.base.clock import when
from bot.store import Case, Evidence, Store
from flows import catalog, text

# Telegram takes documents of at most 50 MB from a bot; a package part stays below that.
FLOW = "case_status"  # the dossier's texts are in the case list's flow file
TELEGRAM_LIMIT = 50 * 1000 * 1000
ZIP_ENTRY_OVERHEAD = 1024  # local header, central directory entry and name, generously
THUMBNAIL = 420  # pixels on the longest side
THUMB_COLUMNS = 3
FONT = "DossierSans"
FONT_BOLD = "DossierSans-Bold"
FONT_MONO = "Courier"
PDF_MIME = "application/pdf"
ZIP_MIME = "application/zip"
EXTENSIONS = {"photo": ".jpg", "voice": ".ogg", "video": ".mp4", "document": ".bin"}


class DossierUnavailable(LookupError):
    """The case's personal content is gone (erased or purged): there is nothing to put in it."""


@dataclass(frozen=True)
class Piece:
    """One evidence file as it appears in the dossier and the package."""

    number: int
    name: str  # neutral name in the package, e.g. bewijs/bewijs-01.jpg
    evidence: Evidence


@dataclass(frozen=True)
class Made:
    """A made file: its neutral name, type and content."""

    name: str
    mime: str
    data: bytes


def _has_text(key: str) -> bool:
    return key in catalog().flows[FLOW].texts


def _label(flow: str, slot: str, value: str | None) -> str | None:
    """The Dutch label of a stored choice, as the reporter chose it."""
    if value is None:
        return None
    slots = catalog().flows[flow].slots
    choice = slots[slot].choice(value) if slot in slots else None
    return choice.label if choice else value


def size(count: int) -> str:
    """A file size for people: bytes, kB or MB with a decimal comma."""
    if count < 1000:
        return text(FLOW, "doc_size_bytes", value=count)
    if count < 1000 * 1000:
        return text(FLOW, "doc_size_kb", value=f"{count / 1000:.1f}".replace(".", ","))
    return text(FLOW, "doc_size_mb", value=f"{count / 1000 / 1000:.1f}".replace(".", ","))


def pdf_name(case: Case) -> str:
    return f"dossier-{case.ref}.pdf"


def package_name(case: Case, part: int = 1, parts: int = 1) -> str:
    if parts == 1:
        return f"bewijs-{case.ref}.zip"
    return f"bewijs-{case.ref}-deel-{part}-van-{parts}.zip"


def _extension(item: Evidence) -> str:
    suffix = Path(item.filename or "").suffix.lower()
    if suffix and len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    guessed = mimetypes.guess_extension(item.mime or "") if item.mime else None
    return guessed or EXTENSIONS.get(item.kind, ".bin")


def pieces(case: Case) -> list[Piece]:
    """The case's evidence in the order received, each under a neutral name."""
    return [
        Piece(number, f"bewijs/bewijs-{number:02d}{_extension(item)}", item)
        for number, item in enumerate(case.evidence, start=1)
    ]


def offences(incident_type: str | None) -> list[str]:
    """The offences a category may concern, with their article; none when none was checked."""
    key = f"offences_{incident_type}"
    return text(FLOW, key).splitlines() if incident_type and _has_text(key) else []


def check(case: Case) -> None:
    """Raise DossierUnavailable when the case has no content left to put in a dossier."""
    if case.purged_at is not None or case.deleted_at is not None:
        raise DossierUnavailable(case.ref)


# --- the PDF --------------------------------------------------------------------------------


@cache
def _fonts() -> None:
    """Register a TrueType font shipped with reportlab, so any Dutch text (ë, é, €, –) shows."""
    import reportlab
    from reportlab import rl_config

    # Images as binary streams: reportlab's ASCII85 text encoding runs in pure Python and took
    # half of the time of a dossier with 20 photos.
    rl_config.useA85 = 0
    fonts = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(fonts / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(fonts / "VeraBd.ttf")))


@cache
def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=14.5, alignment=TA_LEFT)
    return {
        "body": body,
        "title": ParagraphStyle("title", body, fontName=FONT_BOLD, fontSize=19, leading=24),
        "heading": ParagraphStyle(
            "heading", body, fontName=FONT_BOLD, fontSize=13.5, leading=18, spaceBefore=10
        ),
        "label": ParagraphStyle("label", body, fontName=FONT_BOLD),
        "small": ParagraphStyle("small", body, fontSize=9, leading=12),
        "mono": ParagraphStyle("mono", body, fontName=FONT_MONO, fontSize=8.2, leading=11),
        "step": ParagraphStyle("step", body, leftIndent=14, bulletIndent=2, spaceAfter=4),
    }


def _para(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text: escaped, its line breaks kept."""
    return Paragraph(escape(text).replace("\n", "<br/>"), _styles()[style])


def _facts(case: Case) -> list[tuple[str, str]]:
    unknown = text(FLOW, "doc_unknown")
    occurred = when(case.occurred_at) if case.occurred_at else None
    if case.occurred_text and case.occurred_text != occurred:
        occurred = f"{occurred} ({case.occurred_text})" if occurred else case.occurred_text
    kind = _label("report_incident", "incident_type", case.incident_type)
    found = offences(case.incident_type)
    rows = [
        (text(FLOW, "doc_ref"), case.ref),
        (text(FLOW, "doc_created"), when(case.created_at)),
        (text(FLOW, "doc_occurred"), occurred or unknown),
        (text(FLOW, "doc_type"), kind or unknown),
        (text(FLOW, "doc_offences"), "\n".join(found) if found else text(FLOW, "doc_no_offence")),
    ]
    if case.platform:
        rows.append(
            (text(FLOW, "doc_platform"), _label("report_incident", "platform", case.platform))
        )
    rows += [
        (text(FLOW, "doc_location"), case.location or unknown),
        (
            text(FLOW, "doc_targeted"),
            _label("report_incident", "targeted", case.targeted) or unknown,
        ),
        (
            text(FLOW, "doc_aangifte"),
            _label("report_incident", "aangifte", case.aangifte) or unknown,
        ),
    ]
    if case.kind == "support":
        rows[3] = (text(FLOW, "doc_type"), text(FLOW, "doc_support"))
    return [(label, str(value)) for label, value in rows]


def _thumbnail(item: Evidence) -> bytes | None:
    """A small JPEG of a photo, or None when the file is not an image Pillow can read."""
    if item.kind != "photo" and not (item.mime or "").startswith("image/"):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(item.content)) as image:
                image.draft("RGB", (THUMBNAIL, THUMBNAIL))  # JPEG: decode at a smaller scale
                image.thumbnail((THUMBNAIL, THUMBNAIL))
                out = io.BytesIO()
                image.convert("RGB").save(out, "JPEG", quality=80)
                return out.getvalue()
    except (OSError, ValueError, PILImage.DecompressionBombError, Warning):
        return None


def _thumbnails(items: Sequence[Piece], width: float) -> list[Any]:
    cell = width / THUMB_COLUMNS
    cells: list[Any] = []
    for piece in items:
        small = _thumbnail(piece.evidence)
        if small is None:
            continue
        with PILImage.open(io.BytesIO(small)) as image:
            w, h = image.size
        scale = min((cell - 8) / w, (cell - 8) / h)
        picture = Image(io.BytesIO(small), width=w * scale, height=h * scale)
        cells.append([picture, _para(Path(piece.name).name, "small")])
    if not cells:
        return []
    rows = [cells[i : i + THUMB_COLUMNS] for i in range(0, len(cells), THUMB_COLUMNS)]
    rows[-1] += [""] * (THUMB_COLUMNS - len(rows[-1]))
    table = Table(rows, colWidths=[cell] * THUMB_COLUMNS)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [_para(text(FLOW, "doc_thumbnails"), "heading"), table]


def _actor(actor: str) -> str:
    if actor == "melder":
        return text(FLOW, "doc_by_reporter")
    return text(FLOW, "doc_by_system") if actor == "systeem" else text(FLOW, "doc_by_team")


def pdf(case: Case, now: datetime) -> bytes:
    """The dossier as a PDF: facts, story, evidence with hashes and thumbnails, timeline, aangifte."""
    check(case)
    styles = _styles()
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=text(FLOW, "doc_title") + f" {case.ref}",
        author="Weerbaar",
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(
            18 * mm, 10 * mm, text(FLOW, "doc_page", ref=case.ref, page=canvas.getPageNumber())
        )
        canvas.restoreState()

    story: list[Any] = [
        _para(text(FLOW, "doc_title") + f" {case.ref}", "title"),
        _para(text(FLOW, "doc_made", when=when(now)), "small"),
        Spacer(1, 4 * mm),
        _para(text(FLOW, "doc_intro")),
        _para(text(FLOW, "doc_facts"), "heading"),
    ]
    rows = [[_para(label, "label"), _para(value)] for label, value in _facts(case)]
    facts = Table(rows, colWidths=[58 * mm, document.width - 58 * mm])
    facts.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.lightgrey),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    story += [facts, _para(text(FLOW, "doc_story"), "heading"), _para(case.story or "–")]

    items = pieces(case)
    story.append(_para(text(FLOW, "doc_evidence"), "heading"))
    if not items:
        story.append(_para(text(FLOW, "doc_evidence_none")))
    else:
        story.append(_para(text(FLOW, "doc_evidence_intro"), "small"))
        for piece in items:
            item = piece.evidence
            lines = [
                _para(
                    text(
                        FLOW,
                        "doc_evidence_item",
                        number=piece.number,
                        name=Path(piece.name).name,
                        kind=text(FLOW, f"doc_kind_{item.kind}")
                        if _has_text(f"doc_kind_{item.kind}")
                        else item.kind,
                        size=size(item.size),
                        when=when(item.received_at),
                    ),
                    "label",
                )
            ]
            if item.filename:
                lines.append(
                    _para(text(FLOW, "doc_evidence_original", name=item.filename), "small")
                )
            lines.append(_para(text(FLOW, "doc_evidence_hash", hash=item.sha256), "mono"))
            lines.append(Spacer(1, 2 * mm))
            story.append(KeepTogether(lines))
        story += _thumbnails(items, document.width)

    story.append(_para(text(FLOW, "doc_timeline"), "heading"))
    for event in case.events:
        key = f"event_{event.kind}"
        what = text(FLOW, key) if _has_text(key) else text(FLOW, "event_other")
        story.append(
            _para(
                text(
                    FLOW,
                    "doc_timeline_item",
                    when=when(event.at),
                    what=what,
                    by=_actor(event.actor),
                )
            )
        )

    story += [PageBreak(), _para(text(FLOW, "doc_aangifte_title"), "title"), Spacer(1, 3 * mm)]
    story.append(_para(text(FLOW, "doc_aangifte_intro")))
    steps = text(FLOW, "doc_aangifte_steps").splitlines()
    if case.targeted == "gezin":
        steps.insert(3, text(FLOW, "doc_aangifte_family"))
    if case.aangifte == "gedaan":
        steps.insert(1, text(FLOW, "doc_aangifte_done"))
    for number, step in enumerate(steps, start=1):
        story.append(Paragraph(escape(step), styles["step"], bulletText=f"{number}."))
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


# --- the evidence package -------------------------------------------------------------------


def parts(case: Case, pdf_size: int, limit: int = TELEGRAM_LIMIT) -> list[list[Piece]]:
    """The evidence split over packages that each stay under limit (each holds the PDF)."""
    room = limit - pdf_size - 4 * ZIP_ENTRY_OVERHEAD  # the PDF, manifest.json and SHA256SUMS
    groups: list[list[Piece]] = [[]]
    used = 0
    for piece in pieces(case):
        need = piece.evidence.size + ZIP_ENTRY_OVERHEAD
        if groups[-1] and used + need > room:
            groups.append([])
            used = 0
        groups[-1].append(piece)
        used += need
    return groups


def package(
    case: Case,
    now: datetime,
    dossier: bytes,
    only: Sequence[Piece] | None = None,
    part: int = 1,
    total: int = 1,
) -> bytes:
    """A ZIP with the PDF, the evidence under neutral names, manifest.json and SHA256SUMS."""
    check(case)
    chosen = pieces(case) if only is None else list(only)
    sums: list[tuple[str, str]] = [(hashlib.sha256(dossier).hexdigest(), pdf_name(case))]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(pdf_name(case), dossier, compress_type=zipfile.ZIP_DEFLATED)
        for piece in chosen:
            data = piece.evidence.content
            digest = hashlib.sha256(data).hexdigest()
            if digest != piece.evidence.sha256:
                raise ValueError(f"evidence {piece.number} of {case.ref} changed since received")
            # Photos and videos are compressed already; storing them keeps building fast.
            archive.writestr(piece.name, data, compress_type=zipfile.ZIP_STORED)
            sums.append((digest, piece.name))
        manifest = {
            "case": case.ref,
            "made_at": now.isoformat(),
            "part": part,
            "parts": total,
            "dossier": {"name": pdf_name(case), "sha256": sums[0][0], "size": len(dossier)},
            "files": [
                {
                    "number": piece.number,
                    "name": piece.name,
                    "original_name": piece.evidence.filename,
                    "kind": piece.evidence.kind,
                    "mime": piece.evidence.mime,
                    "size": piece.evidence.size,
                    "sha256": piece.evidence.sha256,
                    "received_at": piece.evidence.received_at.isoformat(),
                }
                for piece in chosen
            ],
        }
        manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        archive.writestr("manifest.json", manifest_bytes, compress_type=zipfile.ZIP_DEFLATED)
        sums.append((hashlib.sha256(manifest_bytes).hexdigest(), "manifest.json"))
        # The format `sha256sum -c SHA256SUMS` reads.
        listing = "".join(f"{digest}  {name}\n" for digest, name in sums)
        archive.writestr("SHA256SUMS", listing, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def files(case: Case, now: datetime, limit: int | None = None) -> list[Made]:
    """What the reporter receives: the PDF, then the evidence package in as many parts as needed."""
    limit = limit or TELEGRAM_LIMIT
    dossier = pdf(case, now)
    made = [Made(pdf_name(case), PDF_MIME, dossier)]
    if not case.evidence:
        return made
    groups = parts(case, len(dossier), limit)
    for number, group in enumerate(groups, start=1):
        data = package(case, now, dossier, group, number, len(groups))
        made.append(Made(package_name(case, number, len(groups)), ZIP_MIME, data))
    return made


async def pdf_file(case: Case, now: datetime) -> Made:
    """The PDF, made in a worker thread so the event loop goes on meanwhile."""
    return Made(pdf_name(case), PDF_MIME, await asyncio.to_thread(pdf, case, now))


async def reporter_files(case: Case, now: datetime, limit: int | None = None) -> list[Made]:
    """files(), made in a worker thread so the event loop goes on meanwhile."""
    return await asyncio.to_thread(files, case, now, limit)


async def for_operator(store: Store, ref: str, out: Path, actor: str) -> Made:
    """Write the dossier (a .zip name: the whole evidence package, never split) to out.

    The timeline records it only once the file is written.
    """
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        if case is None:
            raise LookupError(ref)
        check(case)
        now = store.clock.now()
        dossier = pdf(case, now)
        made = (
            Made(package_name(case), ZIP_MIME, package(case, now, dossier))
            if out.suffix.lower() == ".zip"
            else Made(pdf_name(case), PDF_MIME, dossier)
        )
        await asyncio.to_thread(out.write_bytes, made.data)
        await store.add_event(session, case, "dossier_made", actor, {"for": "operator"})
        return made
