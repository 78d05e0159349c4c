"""The Dossier button offers the aangifte dossier as a PDF in the card's thread, to members only."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.channels.slack.test_buttons import _card
from tests.plugins.desk import ANNA, EVE, Desk, Reporter, load_case


async def test_a_member_gets_the_pdf_in_the_cards_thread(desk: Desk, reporter: Reporter) -> None:
    ref, ts = await _card(desk, reporter)

    assert await desk.team.click(ANNA, "dossier", ref) == 200

    (upload,) = desk.fake.uploads
    assert (upload.channel, upload.thread_ts, upload.filename) == (
        desk.fake.top_level()[0].channel,
        ts,
        f"dossier-{ref}.pdf",
    )
    assert upload.title == f"Dossier {ref}"
    assert (
        upload.initial_comment == f"Dossier voor aangifte van {ref}, opgevraagd door Anna de Vries."
    )
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(upload.content)).pages).split()
    )
    assert f"Dossier voor aangifte {ref}" in text
    assert "Ik word online bedreigd en wil met iemand praten." in text
    assert "Aangifte doen" in text and "VPT-incident" in text
    assert len(desk.fake.views) == 1  # the modal with every field opens as before
    case = await load_case(desk.store, ref)
    events = [(e.kind, e.actor, e.at) for e in case.events][-2:]
    now = desk.store.clock.now()
    assert events == [
        ("dossier_viewed", f"Anna de Vries ({ANNA})", now),
        ("dossier_made", f"Anna de Vries ({ANNA})", now),
    ]


async def test_an_outsider_is_refused_and_gets_no_pdf(desk: Desk, reporter: Reporter) -> None:
    ref, _ = await _card(desk, reporter)
    before = [e.kind for e in (await load_case(desk.store, ref)).events]

    assert await desk.team.click(EVE, "dossier", ref) == 200

    assert desk.fake.uploads == [] and desk.fake.views == []
    (refusal,) = desk.fake.responses
    assert refusal["response_type"] == "ephemeral"
    assert refusal["text"] == "Alleen leden van het ondersteuningskanaal kunnen dit doen."
    assert [e.kind for e in (await load_case(desk.store, ref)).events] == before


async def test_a_failed_upload_is_told_to_the_member_and_not_recorded(
    desk: Desk, reporter: Reporter
) -> None:
    ref, _ = await _card(desk, reporter)
    desk.fake.fail_next(3, status=500, method="files.getUploadURLExternal")

    await desk.team.click(ANNA, "dossier", ref)

    assert desk.fake.uploads == []
    assert desk.fake.responses[-1]["text"].startswith("Het dossier kon nu niet in de draad")
    kinds = [e.kind for e in (await load_case(desk.store, ref)).events]
    assert "dossier_viewed" in kinds and "dossier_made" not in kinds
