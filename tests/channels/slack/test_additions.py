"""What a reporter adds to a case after sending reaches the card's thread: text and files."""

from __future__ import annotations

from bot.base.messages import Attachment, Incoming
from tests.plugins.desk import Desk, Reporter, load_case


async def test_a_photo_and_a_note_added_later_reach_the_thread(
    desk: Desk, reporter: Reporter
) -> None:
    ref = await reporter.ask_for_support()
    await desk.deliver()
    (card,) = desk.fake.top_level()

    await reporter.say("/mijnmeldingen")
    await reporter.press(ref)
    asked = await reporter.press("Iets toevoegen")
    assert ref in asked
    photo = b"\x89PNG screenshot of the message"
    reporter.replies = await reporter.dialogue.handle(
        Incoming(
            user=reporter.user,
            attachments=(Attachment("photo", photo, "image/png", "bericht.png"),),
        )
    )
    assert f"Toegevoegd aan melding {ref}" in reporter.text
    await reporter.say("Hij stuurde dit om half tien <!channel>")
    done = await reporter.press("Klaar")
    assert "ziet het ook" in done
    await desk.deliver()

    (upload,) = desk.fake.uploads
    assert (upload.thread_ts, upload.filename, upload.content) == (card.ts, "bericht.png", photo)
    assert upload.initial_comment is not None and "controlecode" in upload.initial_comment
    thread = [m.text for m in desk.fake.thread(card.ts)]
    assert "Aanvulling van de melder: Hij stuurde dit om half tien &lt;!channel&gt;" in thread
    case = await load_case(desk.store, ref)
    assert [e.kind for e in case.events if e.kind in ("evidence_added", "note_added")] == [
        "evidence_added",
        "note_added",
    ]
    assert [e.case_id for e in case.evidence] == [case.id]
