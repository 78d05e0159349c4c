"""A report the way people tell it: in parts, with what they know, in their own words."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.base.messages import Attachment, Incoming
from bot.store import Case, Evidence, OutboxMessage, Reporter, Store
from flows import catalog
from tests.plugins.chat import Chat

NEUTRAL_STORY = "Er is iets naars gebeurd met een inwoner na afloop van de vergadering"


async def _cases(store: Store) -> list[Case]:
    async with store.session() as session:
        return list(await store.cases(session))


async def _reporter(store: Store, user: str = "local:anna") -> Reporter:
    async with store.session() as session:
        return await store.reporter(session, user)


async def _told(chat: Chat, story: str = NEUTRAL_STORY) -> None:
    """/melden, the story, and nothing more to tell."""
    await chat.send("/melden")
    await chat.send(story)
    await chat.press("Nee, dat was het")


async def _finish(chat: Chat, *, support: bool = False) -> None:
    """Answer what is still asked, plainly, up to the summary."""
    answers = {
        "Wat voor incident was het?": "Bedreiging of intimidatie",
        "Waar gebeurde het online?": "E-mail",
        "Op wie was het gericht?": "Ikzelf",
        "Heb je bewijs": "Geen bewijs / klaar",
        "Heb je al aangifte gedaan": "Al gedaan",
        "Wil je dat het Ondersteuningsteam": "Ja" if support else "Nee",
        "hoe het met je gaat": "Nee",
    }
    typed = {"Wanneer gebeurde het?": "gisteren", "Waar gebeurde het?": "thuis"}
    for _ in range(12):
        if "Dit heb ik genoteerd" in chat.last:
            return
        question = next((q for q in answers if q in chat.last), None)
        if question is not None:
            await chat.press(answers[question])
            continue
        question = next((q for q in typed if q in chat.last), None)
        assert question is not None, chat.text
        await chat.send(typed[question])
    raise AssertionError(chat.text)


async def test_a_story_in_several_messages_is_kept_whole(chat: Chat, store: Store) -> None:
    await chat.send("/melden")
    await chat.send("Vanochtend bij de markt kwam een man naar me toe.")
    assert "Is er nog iets dat je wilt vertellen?" in chat.last
    await chat.send("Ik ben wethouder hier en ik ken hem niet.")
    assert "Is er nog iets" not in chat.text  # asked once
    assert "Wat voor incident was het?" in chat.last
    # Typed before the question was read: still the story, and read as one.
    await chat.send("Hij zei dat hij wist waar mijn kinderen op school zitten.")
    assert "Dat heb ik erbij gezet." in chat.text
    assert "Wat voor incident was het?" not in chat.text
    await _finish(chat)
    summary = chat.last
    assert "Vanochtend bij de markt" in summary and "kinderen op school" in summary
    assert "Je rol: Wethouder" in summary
    assert "Soort: Bedreiging of intimidatie" in summary  # "wist waar": a threat
    assert {"Wijzig: Wat er gebeurde", "Iets toevoegen"} <= set(chat.labels)
    await chat.press("Klopt, versturen")
    (case,) = await _cases(store)
    assert case.story is not None
    for part in ("naar me toe", "ken hem niet", "kinderen op school"):
        assert part in case.story
    assert case.role == "wethouder"


async def test_after_a_pause_a_message_answers_the_question(
    chat: Chat, store: Store, clock
) -> None:
    await _told(chat)
    assert "Wat voor incident was het?" in chat.last
    clock.advance(timedelta(minutes=5))
    await chat.send("ik weet echt niet hoe ik dit moet noemen")
    assert "Dat heb ik erbij gezet." not in chat.text


async def test_add_to_the_story_and_change_it_from_the_summary(chat: Chat, store: Store) -> None:
    await _told(chat)
    await _finish(chat)
    await chat.press("Iets toevoegen")
    assert "Is er nog iets dat je wilt vertellen?" in chat.last
    await chat.send("Hij had ook een foto van mijn huis bij zich.")
    assert "Dit heb ik genoteerd" in chat.last
    assert "foto van mijn huis" in chat.last and "na afloop" in chat.last
    await chat.press("Wijzig: Wat er gebeurde")
    assert "Vertel in je eigen woorden" in chat.last
    await chat.send("Een inwoner schold me uit na de vergadering")
    assert "Dit heb ik genoteerd" in chat.last
    assert "schold me uit" in chat.last and "foto van mijn huis" not in chat.last


async def test_story_first_fills_type_place_target_and_role(chat: Chat, store: Store) -> None:
    await chat.send(
        "Ik ben raadslid. Gisteravond kreeg ik een dreigmail en vanochtend stond er iemand "
        "bij mijn huis in Zwolle te schreeuwen, gericht tegen mij."
    )
    assert "Is er nog iets dat je wilt vertellen?" in chat.last
    await chat.press("Nee, dat was het")
    for asked in ("Wat voor incident", "Wanneer gebeurde", "Waar gebeurde", "Op wie was"):
        assert asked not in chat.text
    assert "Heb je bewijs" in chat.last
    await _finish(chat)
    summary = chat.last
    for shown in (
        "Soort: Bedreiging of intimidatie",
        "Waar: bij mijn huis in Zwolle",
        "Gericht op: Ikzelf",
        "Je rol: Raadslid",
    ):
        assert shown in summary
    await chat.press("Klopt, versturen")
    (case,) = await _cases(store)
    assert (case.incident_type, case.targeted, case.role) == ("bedreiging", "ikzelf", "raadslid")
    assert case.location == "bij mijn huis in Zwolle"
    assert (await _reporter(store)).role == "raadslid"


async def test_a_verified_role_is_not_overwritten_by_the_story(chat: Chat, store: Store) -> None:
    async with store.session() as session:
        reporter = await store.reporter(session, "local:anna")
        reporter.role, reporter.municipality, reporter.verified = "burgemeester", "Ede", True
    await chat.send("Ik ben wethouder en ik word al weken gestalkt door een inwoner.")
    await chat.press("Nee, dat was het")
    await _finish(chat)
    await chat.press("Klopt, versturen")
    (case,) = await _cases(store)
    assert case.incident_type == "stalking"
    assert case.role == "wethouder"  # what the story says, on the case
    assert (await _reporter(store)).role == "burgemeester"  # the invite's, on the reporter


async def test_a_known_role_is_used_when_the_story_does_not_say(chat: Chat, store: Store) -> None:
    async with store.session() as session:
        reporter = await store.reporter(session, "local:anna")
        reporter.role, reporter.municipality, reporter.verified = "burgemeester", "Ede", True
    await _told(chat)
    await _finish(chat)
    assert "Je rol: Burgemeester" in chat.last


async def test_weet_ik_niet_is_an_answer_for_type_time_and_place(chat: Chat, store: Store) -> None:
    await _told(chat)
    await chat.send("weet ik niet")
    assert "Wanneer gebeurde het?" in chat.last
    await chat.send("geen idee, ergens in het voorjaar denk ik")
    assert "Waar gebeurde het?" in chat.last
    await chat.send("weet ik niet")
    assert "Op wie was het gericht?" in chat.last
    await _finish(chat)
    summary = chat.last
    assert "Soort: Anders of weet ik niet" in summary
    assert "Wanneer: weet ik niet (je zei: geen idee, ergens in het voorjaar denk ik)" in summary
    assert "Waar: weet ik niet" in summary
    await chat.press("Klopt, versturen")
    (case,) = await _cases(store)
    assert case.incident_type == "anders"
    assert case.occurred_at is None
    assert case.occurred_text is not None and "voorjaar" in case.occurred_text
    assert case.location is None


async def test_weet_ik_niet_buttons_at_time_and_place(chat: Chat) -> None:
    await _told(chat)
    await chat.press("Verbale agressie")
    await chat.press("Weet ik niet")
    assert "Waar gebeurde het?" in chat.last
    await chat.press("Weet ik niet")
    assert "Op wie was het gericht?" in chat.last


async def test_two_unclear_answers_offer_the_choices_and_skip(chat: Chat, store: Store) -> None:
    await _told(chat)
    await chat.send("qwerty")
    await chat.send("zxcv")
    labels = chat.labels
    assert "Verbale agressie" in labels and "Stalking" in labels
    assert {"Overslaan", "Stoppen"} <= set(labels)
    assert "Het lukt nog niet" not in chat.text
    await chat.send("sla over")
    assert "Wanneer gebeurde het?" in chat.last
    await chat.send("blabla")
    await chat.send("pfff")
    assert "Overslaan" in chat.labels
    await chat.press("Overslaan")
    assert "Waar gebeurde het?" in chat.last
    await chat.send("thuis")
    await _finish(chat)
    assert "Soort: Anders of weet ik niet" in chat.last
    await chat.press("Klopt, versturen")
    (case,) = await _cases(store)
    assert case.incident_type == "anders" and case.occurred_at is None


async def test_nee_nog_niet_at_the_aangifte_question(chat: Chat) -> None:
    await _told(chat)
    await chat.press("Verbale agressie")
    await chat.send("gisteren")
    await chat.send("thuis")
    await chat.press("Ikzelf")
    await chat.press("Geen bewijs / klaar")
    await chat.send("nee nog niet")
    assert "Dat begreep ik niet" not in chat.text
    assert "Aangifte doen is belangrijk" in chat.text
    assert "Wil je dat het Ondersteuningsteam" in chat.last


async def test_acknowledgement_and_advice_fit_what_was_told(chat: Chat) -> None:
    await chat.send(
        "Gisteravond is er een brandbom tegen de voordeur van mijn woning gegooid, ik ben burgemeester"
    )
    assert chat.replies[0].text.startswith("Wat erg dat je dit is overkomen.")
    assert "Goed dat je het meldt" in chat.replies[0].text
    await chat.press("Nee, dat was het")
    assert "Heb je bewijs" in chat.last
    await chat.press("Geen bewijs / klaar")
    await chat.press("Nee")
    assert "Dit is ernstig" in chat.text
    assert "ook als het klein lijkt" not in chat.text


async def test_a_milder_story_gets_a_milder_word(make_chat) -> None:
    mild, unclear = make_chat("local:mild"), make_chat("local:unclear")
    await mild.send("Ik ben gisteren tijdens de raadsvergadering uitgescholden door een inwoner")
    assert mild.replies[0].text.startswith("Wat naar dat je dit is overkomen.")
    await unclear.send("/melden")
    await unclear.send(NEUTRAL_STORY)
    assert unclear.replies[0].text.startswith("Dank je dat je het vertelt.")


async def test_a_message_of_4096_characters_is_a_story(chat: Chat, store: Store) -> None:
    await chat.send("/melden")
    sentence = "Een inwoner heeft mij na de vergadering lang uitgescholden. "
    story = (sentence * 80)[:4096]
    assert len(story) == 4096
    await chat.send(story)
    assert "te lang" not in chat.text
    assert "Is er nog iets dat je wilt vertellen?" in chat.last


async def _sent_case(chat: Chat, *, support: bool) -> str:
    await _told(chat, "Gisteravond kreeg ik een dreigmail van iemand die wist waar ik woon")
    await _finish(chat, support=support)
    await chat.press("Klopt, versturen")
    (case,) = await _cases(chat.dialogue.store)
    return case.ref


async def _send_photo(chat: Chat, data: bytes) -> None:
    chat.replies = await chat.dialogue.handle(
        Incoming(user=chat.user, attachments=(Attachment("photo", data, "image/png", "na.png"),))
    )


async def test_a_photo_added_right_after_sending(chat: Chat, store: Store) -> None:
    ref = await _sent_case(chat, support=True)
    assert "Iets toevoegen" in chat.labels
    await chat.press("Iets toevoegen")
    assert ref in chat.last
    photo = b"\x89PNG screenshot sent later"
    await _send_photo(chat, photo)
    assert f"Toegevoegd aan melding {ref}" in chat.text
    await chat.send("Dit is het bericht dat hij me daarna nog stuurde")
    assert f"Toegevoegd aan melding {ref}." in chat.text
    await chat.press("Klaar")
    assert "het Ondersteuningsteam Weerbaar Bestuur ziet het ook" in chat.last
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        assert case is not None
        files = (await session.execute(select(Evidence))).scalars().all()
        outbox = (await session.execute(select(OutboxMessage))).scalars().all()
    assert [(f.case_id, f.size) for f in files] == [(case.id, len(photo))]
    kinds = [e.kind for e in case.events]
    assert kinds[-2:] == ["evidence_added", "note_added"]
    assert case.events[-1].detail["text"].startswith("Dit is het bericht")
    to_team = [m.payload for m in outbox if m.destination == "support"]
    assert [p["kind"] for p in to_team] == ["escalation", "evidence", "note"]
    assert to_team[1]["evidence"] == files[0].id


async def test_a_file_sent_just_after_a_report_joins_it(chat: Chat, store: Store, clock) -> None:
    ref = await _sent_case(chat, support=False)
    await _send_photo(chat, b"late screenshot")
    assert f"Toegevoegd aan melding {ref}" in chat.text
    await chat.press("Klaar")
    assert "Alles staat bij melding" in chat.last and "ziet het ook" not in chat.last
    async with store.session() as session:
        outbox = (await session.execute(select(OutboxMessage))).scalars().all()
        case = await store.case_by_ref(session, ref)
    assert case is not None and [e.kind for e in case.events][-1] == "evidence_added"
    assert not [m for m in outbox if m.destination == "support"]  # not with the team
    clock.advance(timedelta(hours=2))
    await _send_photo(chat, b"much later")
    assert "alleen bewaren tijdens een melding" in chat.text


async def test_add_from_my_reports(chat: Chat, store: Store, clock) -> None:
    ref = await _sent_case(chat, support=False)
    clock.advance(timedelta(days=2))
    await chat.send("/mijnmeldingen")
    await chat.press(ref)
    await chat.press("Iets toevoegen")
    await chat.send("De politie heeft nu ook een aangiftenummer gegeven")
    assert f"Toegevoegd aan melding {ref}." in chat.text
    await chat.press("Klaar")
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
    assert case is not None and case.events[-1].kind == "note_added"
    await chat.press_raw("add:WB-2026-0099")
    assert "verlopen" in chat.text


def test_no_wooden_phrases_are_left() -> None:
    texts = [*catalog().texts.values()]
    for flow in catalog().flows.values():
        texts += flow.texts.values()
    for phrase in ("Dat kon ik niet als moment lezen", "Het lukt nog niet", "(en)"):
        assert not [t for t in texts if phrase in t], phrase


async def test_the_summary_offers_no_skip_after_two_unclear_answers(chat: Chat) -> None:
    await _told(chat)
    await _finish(chat)
    await chat.send("qwerty")
    await chat.send("zxcv")
    assert "Overslaan" not in chat.labels
    assert "Klopt, versturen" in chat.labels
