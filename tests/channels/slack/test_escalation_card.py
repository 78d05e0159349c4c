"""A support request becomes one card in the support channel, updated in place."""

from __future__ import annotations

from tests.plugins.desk import CHANNEL, Desk, Reporter, load_case, outbox


async def test_support_request_posts_one_card(desk: Desk, reporter: Reporter) -> None:
    ref = await reporter.ask_for_support()
    assert await desk.deliver() == 1
    (card,) = desk.fake.top_level()
    assert card.channel == CHANNEL
    fields = " ".join(f["text"] for b in card.blocks if b.get("fields") for f in b["fields"])
    assert ref in fields and "Normaal" in fields and "Wil chatten via de bot" in fields
    summary = next(b for b in card.blocks if b.get("block_id") == "case_summary")
    assert "online bedreigd" in summary["text"]["text"]
    assert card.buttons() == ["Oppakken", "Chat starten", "Afsluiten", "Dossier"]
    case = await load_case(desk.store, ref)
    assert (case.slack_channel, case.slack_ts) == (CHANNEL, card.ts)
    assert [e.kind for e in case.events][-1] == "card_posted"

    assert await desk.deliver() == 0
    assert desk.fake.calls["chat.postMessage"] == 1


async def test_an_escalation_delivered_twice_updates_the_card(
    desk: Desk, reporter: Reporter
) -> None:
    ref = await reporter.ask_for_support()
    (escalation,) = await outbox(desk.store, "support")
    assert escalation["kind"] == "escalation" and escalation["case"] == ref
    await desk.deliver()
    async with desk.store.session() as session:  # the same escalation once more
        case = await desk.store.case_by_ref(session, ref)
        assert case is not None
        await desk.store.enqueue(session, "support", escalation, case_id=case.id)
    assert await desk.deliver() == 1
    (card,) = desk.fake.top_level()
    assert card.updates == 1 and desk.fake.calls["chat.postMessage"] == 1


async def test_a_report_that_wants_support_gets_a_card_too(desk: Desk, reporter: Reporter) -> None:
    async with desk.store.session() as session:
        anna = await desk.store.reporter(session, "telegram:4004")
        anna.role, anna.municipality = "wethouder", "Zwolle"
        case = await desk.store.create_case(
            session,
            anna,
            kind="incident",
            urgency="normal",
            incident_type="doxing",
            story="Mijn adres staat op een forum.",
            occurred_text="gisteravond",
            wants_support=True,
        )
        await desk.store.enqueue(
            session,
            "support",
            {"kind": "escalation", "case": case.ref, "text": "x"},
            case_id=case.id,
        )
    await desk.deliver()
    (card,) = desk.fake.top_level()
    fields = " ".join(f["text"] for b in card.blocks if b.get("fields") for f in b["fields"])
    for expected in ("Doxing", "Wethouder", "Zwolle", "gisteravond", "Niet gevraagd"):
        assert expected in fields, expected
    assert card.text == f"Melding {case.ref} (normaal): open, nog niet opgepakt"
