"""Conversations through the real python-telegram-bot, polling a fake Bot API."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from bot.channels.telegram import COMMANDS, TelegramChannel
from bot.channels.telegram.inbound import FILE_TOO_BIG, GROUP_REFUSAL, UNREADABLE
from bot.channels.telegram.outbound import DISCREET_NOTICE
from bot.core.dialogue import COMMANDS as CORE_COMMANDS
from bot.features import aftercare, invites
from bot.features.support import cases
from bot.store import Case, Evidence, OutboxMessage, Reporter, Store
from bot.store.models import Checkin
from tests.fakes.telegram_api import FakeTelegram
from tests.plugins.telegram import Person, eventually

STORY = "Er is iets naars gebeurd met een inwoner na afloop van de vergadering"


async def _cases(store: Store) -> list[Case]:
    async with store.session() as session:
        return list(await store.cases(session))


async def _outbox(store: Store) -> list[OutboxMessage]:
    async with store.session() as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )


async def test_start_registers_dutch_commands_and_greets_with_a_menu(
    fake: FakeTelegram, channel: TelegramChannel, person: Person
) -> None:
    assert {f"/{c['command']}" for c in fake.commands} == set(CORE_COMMANDS)
    assert len(fake.commands) == len(COMMANDS)
    assert all(c["description"] for c in fake.commands)
    assert fake.command_scope == {"type": "all_private_chats"}

    await person.say("/start")

    (welcome,) = person.replies
    assert welcome.text.startswith("Hallo, ik ben de assistent van Weerbaar.")
    assert "Incident melden" in person.labels


async def test_a_deep_link_passes_its_invite_code_on(person: Person, store: Store) -> None:
    invite = await invites.create(store, "wethouder", "Zwolle", "Anna de Vries")
    await person.say(f"/start {invite.code}")
    assert "Je bent nu geverifieerd als wethouder in Zwolle" in person.text
    async with store.session() as session:
        reporter = await store.reporter(session, f"telegram:{person.chat_id}")
        assert reporter.verified


async def test_the_data_export_arrives_as_a_json_document(person: Person) -> None:
    await person.say("/privacy")
    await person.press("Mijn gegevens downloaden")
    (export,) = [m for m in person.replies if m.document]
    assert export.document is not None
    name, content = export.document
    assert name.startswith("weerbaar-mijn-gegevens-") and name.endswith(".json")
    assert json.loads(content)
    assert export.text.startswith("Hier is een bestand met alles wat ik over je bewaar.")


async def test_full_report_with_a_photo_via_buttons_and_text(
    fake: FakeTelegram, person: Person, store: Store
) -> None:
    await person.say("/melden")
    assert "Vertel in je eigen woorden" in person.last
    await person.say(STORY)
    assert "Is er nog iets dat je wilt vertellen?" in person.last
    await person.press("Nee, dat was het")
    assert "Wat voor incident was het?" in person.last
    question = person.replies[-1]
    assert question.buttons
    await person.press("Bedreiging of intimidatie")
    assert question.buttons == []  # the used keyboard is gone
    assert "Wanneer gebeurde het?" in person.last
    await person.say("gisteravond")
    assert "Waar gebeurde het?" in person.last
    await person.say("Bij het gemeentehuis in Zwolle")
    await person.press("Ikzelf")
    assert "Heb je bewijs" in person.last

    photo = bytes(range(256)) * 64
    await person.photo(photo)
    digest = hashlib.sha256(photo).hexdigest()
    assert f"controlecode {digest[:12]}" in person.text
    await person.press("Geen bewijs / klaar")
    assert "aangifte" in person.last
    await person.press("Al gedaan")
    await person.press("Nee")
    assert "hoe het met je gaat" in person.last
    await person.press("Ja")
    assert "Dit heb ik genoteerd" in person.last
    await person.press("Klopt, versturen")
    assert "WB-2026-0001" in person.text

    presses = 8
    assert len(fake.answered) == presses
    assert fake.calls["editMessageReplyMarkup"] >= presses
    # Every used keyboard is gone; the saved report offers to add to it, and its dossier.
    (kept,) = [m for m in fake.sent(person.chat_id) if m.buttons]
    assert "WB-2026-0001" in kept.text
    assert ("Dossier voor aangifte", "dossier:WB-2026-0001") in kept.buttons
    (case,) = await _cases(store)
    async with store.session() as session:
        rows = await session.execute(select(Evidence).where(Evidence.case_id == case.id))
        (evidence,) = rows.scalars()
    assert (evidence.kind, evidence.mime, evidence.size) == ("photo", "image/jpeg", len(photo))
    assert evidence.sha256 == digest
    assert evidence.content == photo
    assert fake.calls["getFile"] == 1


async def test_support_request_is_escalated_and_later_news_is_discreet(
    fake: FakeTelegram, person: Person, store: Store
) -> None:
    await person.say("/hulp")
    assert "Ben je nu in direct gevaar?" in person.last
    await person.press("Nee")
    await person.press("Chatten via deze chat")
    await person.say("Ik wil graag overleggen over wat ik nu moet doen")
    assert "onderweg naar het Ondersteuningsteam Weerbaar Bestuur" in person.text
    assert "gewaarschuwd" not in person.text  # not before the card is in Slack
    (escalation,) = [m for m in await _outbox(store) if m.destination == "support"]
    assert escalation.payload["case"] == "WB-2026-0001"
    assert escalation.payload["kind"] == "escalation"

    count = len(fake.sent(person.chat_id))
    await cases.acknowledge(store, "WB-2026-0001", "Fatima de Vries")
    notice = (await fake.wait_sent(person.chat_id, count + 1))[count]
    (hidden,) = notice.hidden()
    assert "WB-2026-0001" in hidden and "Fatima" in hidden
    shown = notice.text.replace(hidden, "")
    assert shown.strip() == DISCREET_NOTICE
    assert "WB-2026" not in shown and "Fatima" not in shown


async def test_stale_and_forged_buttons_are_answered_politely(
    fake: FakeTelegram, person: Person
) -> None:
    await person.say("/start")
    menu = person.replies[-1]
    await person.press("Trainingen")
    assert "Wat is je rol?" in person.last

    await person.press_data("intent:find_training", menu.message_id)
    assert "Deze knop is verlopen" in person.text
    await person.press_data("case:WB-2026-9999", menu.message_id)
    assert "Deze knop is verlopen" in person.text
    assert len(fake.answered) == 3


async def test_a_file_over_the_limit_is_refused_without_downloading(
    fake: FakeTelegram, person: Person
) -> None:
    await person.say("/melden")
    update = fake.message(person.chat_id)
    file_id = fake.add_file(b"%PDF-1.4 klein", size=25 * 1024 * 1024, suffix="pdf")
    update["message"]["document"] = {
        "file_id": file_id,
        "file_unique_id": "u-groot",
        "file_name": "opname.pdf",
        "mime_type": "application/pdf",
        "file_size": 25 * 1024 * 1024,
    }
    await person.push(update)
    assert person.last == FILE_TOO_BIG
    assert fake.calls["getFile"] == 0
    assert fake.calls["download"] == 0


async def test_a_sticker_gets_a_kind_explanation(fake: FakeTelegram, person: Person) -> None:
    sticker = {
        "file_id": "s1",
        "file_unique_id": "us1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    await person.push(fake.message(person.chat_id, sticker=sticker))
    assert person.last == UNREADABLE


async def test_group_chats_are_refused_once_and_never_reach_the_core(
    fake: FakeTelegram, person: Person, store: Store
) -> None:
    group = -100777
    await fake.send_text(group, "/start")
    await fake.send_text(group, "Ik wil iets melden")
    await person.say("/help")  # updates are taken in order: the group's are done by now
    assert fake.texts(group) == [GROUP_REFUSAL]
    async with store.session() as session:
        keys = list((await session.execute(select(Reporter.user_key))).scalars())
    assert keys == [f"telegram:{person.chat_id}"]


async def test_typing_is_shown_while_a_file_is_fetched(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    release = fake.hold("getFile")
    await fake.send_photo(5151, b"\xff\xd8" + b"beeld" * 100)
    await eventually(lambda: (5151, "typing") in fake.chat_actions)
    assert fake.sent(5151) == []
    release.set()
    await fake.wait_sent(5151, 1)


async def test_a_check_in_keeps_its_buttons_until_answered(
    fake: FakeTelegram, person: Person, store: Store
) -> None:
    await person.say("/hulp")
    await person.press("Nee")
    await person.press("Chatten via deze chat")
    await person.press("Overslaan")
    count = len(fake.sent(person.chat_id))
    async with store.session() as session:
        case = await store.case_by_ref(session, "WB-2026-0001")
        assert case is not None
        # What the check-in job does when it is due.
        now = store.clock.now()
        session.add(
            Checkin(case_id=case.id, number=1, due_at=now, planned=True, sent=1, sent_at=now)
        )
        await store.enqueue(
            session,
            "user",
            aftercare.checkin_message(case),
            reporter_id=case.reporter_id,
            case_id=case.id,
        )
    checkin = (await fake.wait_sent(person.chat_id, count + 1))[count]
    assert checkin.hidden() == ["Hoe gaat het nu met je?"]
    await person.say("/help")
    assert [m for m in fake.sent(person.chat_id) if m.message_id == checkin.message_id][0].buttons
    await person.press_data(checkin.buttons[0][1], checkin.message_id)
    assert "Fijn om te horen" in person.text


async def test_a_slow_turn_answers_the_button_before_its_reply_goes_out(
    fake: FakeTelegram, person: Person
) -> None:
    await person.say("/start")
    release = fake.hold("sendMessage")  # Telegram is slow to take the reply
    try:
        await fake.press(person.chat_id, person.replies[0].buttons[0][1])
        await eventually(lambda: len(fake.answered) == 1, timeout=5)
        keyboards = [m for m in fake.sent(person.chat_id) if m.reply_markup]
        assert keyboards == []  # the pressed keyboard is gone too
    finally:
        release.set()
    await person.channel.idle()
    assert len(fake.sent(person.chat_id)) > len(person.replies)
