"""Reporting an incident through the dialogue core, as a reporter would."""

from __future__ import annotations

from datetime import timedelta, timezone

from sqlalchemy import select

from bot.base.messages import Attachment, Incoming
from bot.store import Case, Evidence, OutboxMessage, Store
from tests.plugins.chat import Chat

NEUTRAL_STORY = "Er is iets naars gebeurd met een inwoner na afloop van de vergadering"


async def _cases(store: Store) -> list[Case]:
    async with store.session() as session:
        return list(await store.cases(session))


async def _start_neutral_report(chat: Chat) -> None:
    await chat.send("Ik wil een incident melden")
    assert "Vertel in je eigen woorden" in chat.last
    await chat.send(NEUTRAL_STORY)
    assert "Is er nog iets dat je wilt vertellen?" in chat.last
    await chat.press("Nee, dat was het")
    assert "Wat voor incident was het?" in chat.last


async def _answer_to_summary(chat: Chat) -> None:
    await chat.press("Bedreiging of intimidatie")
    assert "Wanneer gebeurde het?" in chat.last
    await chat.send("gisteravond")
    assert "Waar gebeurde het?" in chat.last
    await chat.send("Bij het gemeentehuis in Zwolle")
    assert "Op wie was het gericht?" in chat.last
    await chat.press("Ikzelf")
    assert "Heb je bewijs" in chat.last
    await chat.press("Geen bewijs / klaar")
    assert "aangifte" in chat.last
    await chat.press("Al gedaan")
    assert "Ondersteuningsteam" in chat.last
    await chat.press("Ja")
    assert "hoe het met je gaat" in chat.last
    await chat.press("Ja")
    assert "Dit heb ik genoteerd" in chat.last


async def test_happy_path_creates_case_with_every_field(chat: Chat, store: Store) -> None:
    await _start_neutral_report(chat)
    await _answer_to_summary(chat)
    summary = chat.last
    for expected in (
        "Bedreiging of intimidatie",
        "zaterdag 28 november",
        "Zwolle",
        "Ikzelf",
        "Al gedaan",
    ):
        assert expected in summary
    await chat.press("Klopt, versturen")
    assert "WB-2026-0001" in chat.text
    (case,) = await _cases(store)
    assert case.ref == "WB-2026-0001"
    assert case.incident_type == "bedreiging"
    assert case.location == "Bij het gemeentehuis in Zwolle"
    assert case.targeted == "ikzelf"
    assert case.aangifte == "gedaan"
    assert case.wants_support is True
    assert case.wants_checkins is True
    assert case.story == NEUTRAL_STORY
    assert case.occurred_at is not None
    assert case.occurred_at.astimezone(timezone.utc).date().isoformat() == "2026-11-28"
    async with store.session() as session:
        outbox = (await session.execute(select(OutboxMessage))).scalars().all()
    assert [m.destination for m in outbox] == ["support"]
    assert outbox[0].payload["case"] == "WB-2026-0001"


async def test_story_first_prefills_and_does_not_ask_again(chat: Chat, store: Store) -> None:
    await chat.send(
        "Gisteravond ben ik op Facebook bedreigd door iemand die zei dat hij me wist te vinden"
    )
    assert "Is er nog iets dat je wilt vertellen?" in chat.last
    await chat.press("Nee, dat was het")
    asked = chat.text
    assert "Vertel in je eigen woorden" not in asked
    assert "Wat voor incident" not in asked
    assert "Wanneer gebeurde het?" not in asked
    assert "Waar gebeurde het?" in chat.last


async def test_edit_one_field_from_summary(chat: Chat) -> None:
    await _start_neutral_report(chat)
    await _answer_to_summary(chat)
    await chat.press("Wijzig: Waar")
    assert "Waar gebeurde het?" in chat.last
    await chat.send("Thuis in Kampen")
    assert "Dit heb ik genoteerd" in chat.last
    assert "Thuis in Kampen" in chat.last
    assert "Zwolle" not in chat.last


async def test_cancel_mid_flow_leaves_no_case(chat: Chat, store: Store) -> None:
    await _start_neutral_report(chat)
    await chat.press("Fysiek geweld")
    await chat.send("stop")
    assert "Wil je stoppen?" in chat.last
    await chat.press("Ja, stoppen")
    assert "niets bewaard" in chat.last
    assert await _cases(store) == []
    await chat.send("hallo")
    assert "Waarmee kan ik je helpen?" in chat.text


async def test_cancel_can_be_taken_back(chat: Chat) -> None:
    await _start_neutral_report(chat)
    await chat.send("/stop")
    await chat.press("Nee, ga verder")
    assert "Wat voor incident was het?" in chat.last


async def test_emergency_mid_flow_answers_112_first_and_flow_continues(
    chat: Chat, store: Store
) -> None:
    await _start_neutral_report(chat)
    await chat.send("er staat nu iemand met een mes voor mijn deur")
    assert chat.replies[0].text.startswith("Ben je nu in gevaar? Bel direct 112.")
    await chat.press("Verder waar ik was")
    assert "Wat voor incident was het?" in chat.last
    await chat.press("Fysiek geweld")
    assert "Wanneer gebeurde het?" in chat.last


async def test_emergency_alerts_the_team_urgently(chat: Chat, store: Store) -> None:
    await chat.send("help er probeert iemand in te breken")
    assert chat.replies[0].text.startswith("Ben je nu in gevaar? Bel direct 112.")
    await chat.press("Ondersteuningsteam waarschuwen")
    (case,) = await _cases(store)
    assert case.kind == "support" and case.urgency == "urgent"
    assert case.ref in chat.text


async def test_protocol_question_mid_flow_then_resume(chat: Chat) -> None:
    await _start_neutral_report(chat)
    await chat.send("Hoe doe ik aangifte bij de politie?")
    assert "Bron" in chat.text
    assert "We gaan verder waar we waren." in chat.text
    assert "Wat voor incident was het?" in chat.last


async def test_greeting_mid_flow_does_not_restart(chat: Chat) -> None:
    await _start_neutral_report(chat)
    await chat.send("hallo")
    assert "Wat voor incident was het?" in chat.last
    assert "Vertel in je eigen woorden" not in chat.text


async def test_restart_mid_flow_resumes_in_a_new_core(make_chat) -> None:
    first = make_chat()
    await _start_neutral_report(first)
    await first.press("Vernieling of brandstichting")
    second = make_chat()  # a new process: nothing shared but the database
    await second.send("vanochtend om 7 uur")
    assert "Waar gebeurde het?" in second.last


async def test_two_invalid_answers_explain_and_offer_stop(chat: Chat) -> None:
    await _start_neutral_report(chat)
    await chat.send("qwerty asdf")
    assert "Kies het soort incident" in chat.text
    await chat.send("zxcv uiop")
    assert "Ik begrijp het nog niet goed" in chat.text
    assert "Stoppen" in chat.labels
    await chat.press("Verbale agressie")
    assert "Wanneer gebeurde het?" in chat.last


async def test_optional_slot_offers_skip_after_two_invalid_answers(chat: Chat) -> None:
    await chat.send("Ik wil een incident melden")
    await chat.send("Iemand heeft online mijn adres gedeeld met de tekst dat ze langskomen")
    await chat.press("Nee, dat was het")
    if "Waar gebeurde het online?" not in chat.last:
        await chat.press("Doxing (gegevens online gezet)")
    assert "Waar gebeurde het online?" in chat.last
    await chat.send("qqq")
    await chat.send("zzz")
    await chat.press("Overslaan")
    assert "Waar gebeurde het online?" not in chat.last


async def test_evidence_files_are_kept_with_hash_and_linked_to_the_case(
    chat: Chat, store: Store
) -> None:
    await _start_neutral_report(chat)
    await chat.press("Online of sociale media")
    await chat.press("X (Twitter)")
    await chat.send("gisteren")
    await chat.send("Op X")
    await chat.press("Ikzelf")
    assert "Heb je bewijs" in chat.last
    photo = b"\x89PNG fake screenshot bytes"
    chat.replies = await chat.dialogue.handle(
        Incoming(user=chat.user, attachments=(Attachment("photo", photo, "image/png", "shot.png"),))
    )
    receipt = chat.text
    assert "controlecode" in receipt
    await chat.send("De berichten staan ook nog in mijn DM")
    await chat.press("Geen bewijs / klaar")
    await chat.press("Nee")
    assert "Aangifte doen is belangrijk" in chat.text
    await chat.press("Nee")
    await chat.press("Nee")  # no check-ins later
    await chat.press("Klopt, versturen")
    (case,) = await _cases(store)
    async with store.session() as session:
        files = (await session.execute(select(Evidence))).scalars().all()
    assert [(f.case_id, f.size, f.kind) for f in files] == [(case.id, len(photo), "photo")]
    assert len(files[0].sha256) == 64
    assert files[0].sha256[:12] in receipt


async def test_stale_button_is_refused_politely(chat: Chat, store: Store) -> None:
    await _start_neutral_report(chat)
    await chat.press_raw("confirm")
    assert "Deze knop is verlopen" in chat.text
    assert "Wat voor incident was het?" in chat.last
    assert await _cases(store) == []


async def test_old_draft_is_dropped_kindly(chat: Chat, clock) -> None:
    await _start_neutral_report(chat)
    clock.advance(timedelta(hours=25))
    await chat.send("hallo")
    assert "opnieuw begonnen" in chat.text


async def test_case_status_shows_only_own_cases(make_chat, store: Store, clock) -> None:
    anna, bert = make_chat("local:anna"), make_chat("local:bert")
    for who in (anna, bert):
        await _start_neutral_report(who)
        await _answer_to_summary(who)
        await who.press("Klopt, versturen")
        clock.advance(timedelta(minutes=5))
    await anna.send("mijn meldingen")
    assert "WB-2026-0001" in anna.text
    assert "WB-2026-0002" not in anna.text
    await anna.press("WB-2026-0001")
    assert "Melding WB-2026-0001" in anna.text
    await anna.press_raw("case:WB-2026-0002")
    assert "verlopen" in anna.text
    assert "Melding WB-2026-0002" not in anna.text


async def test_bad_input_changes_nothing(chat: Chat, store: Store) -> None:
    await _start_neutral_report(chat)
    for text in ("", "   ", "x" * 5000):
        await chat.send(text)
    assert "te lang" in chat.text
    await chat.press_raw("verbale_agressie")  # the type buttons are still the ones on offer
    assert "Wanneer gebeurde het?" in chat.last
