"""The reporter's dossier through the real python-telegram-bot and the fake Bot API."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from bot.channels.telegram import TelegramChannel
from bot.store import OutboxMessage, Store
from tests.fakes.telegram_api import FakeTelegram
from tests.features.dossier.seed import FIELDS, seeded_case
from tests.plugins.telegram import Person


async def _dossier_events(store: Store, ref: str) -> list[str]:
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        assert case is not None
        return [e.actor for e in case.events if e.kind == "dossier_made"]


async def test_the_reporter_gets_the_dossier_as_neutral_documents(
    fake: FakeTelegram, person: Person, store: Store
) -> None:
    ref = await seeded_case(store, f"telegram:{person.chat_id}", photos=2)
    await person.say("/mijnmeldingen")
    await person.press(ref)
    assert person.labels == ["Iets toevoegen", "Dossier voor aangifte"]
    await person.press("Dossier voor aangifte")

    documents = [m for m in person.replies if m.document]
    assert [m.document[0] for m in documents if m.document] == [
        f"dossier-{ref}.pdf",
        f"bewijs-{ref}.zip",
    ]
    assert [m.text for m in documents] == [f"Dossier {ref}", f"Bewijspakket {ref}"]
    # What a notification can show (captions, texts, names) holds nothing of the incident.
    shown = " ".join(m.text + (m.document[0] if m.document else "") for m in person.replies)
    for private in ("Heiloo", "fietsenstalling", "Bedreiging", "IMG_", "dreiging"):
        assert private.lower() not in shown.lower(), private
    assert "0900-8844" in person.text and "112" in person.text
    name, pdf = documents[0].document or ("", b"")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert ref in text and FIELDS["location"] in " ".join(text.split())
    assert await _dossier_events(store, ref) == ["melder"]
    async with store.session() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        sent = [m.payload["file"] for m in rows if "file" in m.payload]
    assert [f["name"] for f in sent] == [f"dossier-{ref}.pdf", f"bewijs-{ref}.zip"]
    assert all("base64" not in f for f in sent)  # delivered: the content is not kept


async def test_another_reporter_or_a_stale_button_gets_nothing(
    fake: FakeTelegram, channel: TelegramChannel, person: Person, store: Store
) -> None:
    ref = await seeded_case(store, f"telegram:{person.chat_id}", photos=1)
    await person.say("/mijnmeldingen")
    await person.press(ref)
    offer = person.replies[-1]
    await person.say("/help")
    await person.press_data(f"dossier:{ref}", offer.message_id)  # stale: offered two turns ago
    assert "Deze knop is verlopen" in person.text
    assert not [m for m in person.replies if m.document]

    other = Person(fake, channel, chat_id=5151)
    await other.say("/mijnmeldingen")
    assert "Je hebt nog geen meldingen gedaan" in other.text
    await other.press_data(f"dossier:{ref}", other.replies[-1].message_id)  # forged
    assert "Deze knop is verlopen" in other.text
    assert not [m for m in fake.sent(5151) if m.document]
    assert not [m for m in fake.sent(person.chat_id) if m.document]
    assert await _dossier_events(store, ref) == []
